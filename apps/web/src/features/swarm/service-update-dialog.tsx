"use client";
import { ImageRef, type SwarmService } from "@nimbus/domain";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { errorInfo, issueText } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useStartOperation } from "@/lib/use-operation";

/** A new image for a service: docker replaces its tasks one by one; progress shows on the service page. */
export function ServiceUpdateDialog({ service, open, onClose }: { service: SwarmService; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const started = useStartOperation();
  const [image, setImage] = useState(service.image);
  const [fieldError, setFieldError] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setImage(service.image);
      setFieldError(null);
    }
  }, [open, service.image]);
  const update = useAction(
    trpc.swarm.services.update.mutationOptions({
      onSuccess: (op) => {
        started(op);
        onClose();
      },
    }),
  );
  const close = () => {
    update.reset();
    onClose();
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = ImageRef.safeParse(image.trim());
    if (!parsed.success) return setFieldError(parsed.error.issues[0] ? issueText(parsed.error.issues[0]) : "not an image");
    if (parsed.data === service.image && service.update?.state !== "paused") return setFieldError(`${service.name} already runs ${parsed.data}`);
    update.mutate({ service: service.name, image: parsed.data });
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      title={`Update ${service.name}`}
      description={`Runs ${service.image} now. Tasks are replaced one at a time; a task that fails pauses the update and the others keep running.`}
      testId="update-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form="update-form" variant="primary" busy={update.isPending} data-testid="update-submit">
            Update
          </Button>
        </>
      }
    >
      <form id="update-form" onSubmit={submit} className="flex flex-col gap-3">
        <Field label="Image" htmlFor="update-image" error={fieldError} hint="repository:tag, e.g. nginx:1.27-alpine; the nodes must have it.">
          <Input id="update-image" value={image} onChange={(e) => setImage(e.target.value)} autoFocus spellCheck={false} className="font-mono" data-testid="update-image" />
        </Field>
        {update.error && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(update.error).message}
          </p>
        )}
      </form>
    </Dialog>
  );
}
