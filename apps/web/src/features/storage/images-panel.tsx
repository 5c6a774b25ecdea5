"use client";
import type { ImageEntry } from "@nimbus/domain";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { Panel } from "@/components/ui/panel";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { useNow } from "@/lib/clock";
import { errorInfo } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { parseImageImport, type ImageImportValues } from "./image-import-form";
import { ImagesView, deleteBlocker } from "./images-view";

/** The image catalog on the Storage page; admins import and delete (a delete refused while an instance uses the image). */
export function ImagesPanel({ datastores }: { datastores: readonly string[] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const now = useNow();
  const mayManage = useCan("images:manage");
  const images = useQuery(trpc.images.list.queryOptions());
  const usage = useQuery(trpc.images.usage.queryOptions());
  const [importing, setImporting] = useState(false);
  const [deleting, setDeleting] = useState<ImageEntry | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: trpc.images.list.queryKey() }), qc.invalidateQueries({ queryKey: trpc.images.usage.queryKey() })]);
  const remove = useAction(
    trpc.images.delete.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`Image ${v.name} deleted from ${v.datastore}`);
        setDeleting(null);
        void refresh();
      },
    }),
  );
  const usedBy = new Map((usage.data ?? []).map((u) => [u.name, u.usedBy]));
  return (
    <Panel
      title="Images"
      id="images"
      bodyClass="p-0"
      actions={
        mayManage ? (
          <Button size="sm" onClick={() => setImporting(true)} disabled={!datastores.length} data-testid="image-import-open">
            Import…
          </Button>
        ) : null
      }
    >
      {images.error ? (
        <ErrorState error={images.error} onRetry={() => void images.refetch()} compact />
      ) : !images.data || !usage.data ? (
        <Skeleton className="m-4 h-16" />
      ) : (
        <ImagesView
          catalog={images.data}
          usedBy={usedBy}
          now={now}
          actions={
            mayManage
              ? (image, users) => {
                  const blocker = deleteBlocker(image, users);
                  return (
                    <Button size="sm" variant="ghost" disabled={!!blocker} title={blocker ?? `Delete ${image.name} from ${image.datastore}`} onClick={() => setDeleting(image)} data-testid={`image-delete-${image.name}`}>
                      Delete
                    </Button>
                  );
                }
              : undefined
          }
        />
      )}
      <ImportImageDialog open={importing} datastores={datastores} onClose={() => setImporting(false)} onImported={() => void refresh()} />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete image ${deleting.name}?` : "Delete image"}
        confirmLabel="Delete image"
        danger
        busy={remove.isPending}
        onConfirm={() => deleting && remove.mutate({ datastore: deleting.datastore, name: deleting.name })}
        onCancel={() => (remove.reset(), setDeleting(null))}
      >
        {deleting && (
          <>
            <p>
              The file {deleting.file} is removed from {deleting.datastore}; new instances can no longer be built from it.
            </p>
            {remove.error && (
              <p role="alert" className="mt-3 rounded-md bg-crit-soft px-3 py-2 text-crit">
                {errorInfo(remove.error).message}
              </p>
            )}
          </>
        )}
      </ConfirmDialog>
    </Panel>
  );
}

const FORM_ID = "image-import-form";

function ImportImageDialog({ open, datastores, onClose, onImported }: { open: boolean; datastores: readonly string[]; onClose: () => void; onImported: () => void }) {
  const trpc = useTRPC();
  const empty: ImageImportValues = { name: "", os: "debian12", datastore: datastores[0] ?? "", source: "", algorithm: "sha256", checksum: "" };
  const [values, setValues] = useState(empty);
  const [errors, setErrors] = useState<ReturnType<typeof parseImageImport>["errors"]>({});
  const run = useAction(
    trpc.images.import.mutationOptions({
      onSuccess: (entry) => {
        notify.ok(`Image ${entry.name} imported into ${entry.datastore}`);
        setValues(empty);
        onImported();
        onClose();
      },
    }),
  );
  const set = (k: keyof ImageImportValues) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));
  const close = () => {
    run.reset();
    setErrors({});
    onClose();
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      title="Import image"
      description="The storage server copies the file or downloads the URL itself, checks the checksum and detects the format (qcow2 or raw)."
      testId="image-import-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form={FORM_ID} variant="primary" busy={run.isPending} data-testid="image-import-start">
            Import
          </Button>
        </>
      }
    >
      <form
        id={FORM_ID}
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseImageImport({ ...values, datastore: values.datastore || datastores[0] || "" });
          setErrors(parsed.errors);
          if (parsed.request) run.mutate(parsed.request);
        }}
      >
        <Field label="Name" htmlFor="image-name" error={errors.name} hint="What create forms offer, e.g. debian-12-custom">
          <Input id="image-name" value={values.name} onChange={set("name")} autoComplete="off" />
        </Field>
        <Field label="OS (libosinfo id)" htmlFor="image-os" error={errors.os}>
          <Input id="image-os" value={values.os} onChange={set("os")} />
        </Field>
        <Field label="Datastore" htmlFor="image-datastore" error={errors.datastore}>
          <Select id="image-datastore" value={values.datastore || datastores[0]} onChange={set("datastore")}>
            {datastores.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </Select>
        </Field>
        <Field label="Source" htmlFor="image-source" error={errors.source} hint="A file on the storage server (/srv/images/x.qcow2) or an http(s) URL it can reach">
          <Input id="image-source" value={values.source} onChange={set("source")} className="font-mono" />
        </Field>
        <Field label="Checksum" htmlFor="image-checksum" error={errors.checksum}>
          <div className="flex gap-2">
            <Select aria-label="Checksum algorithm" value={values.algorithm} onChange={set("algorithm")}>
              <option value="sha256">sha256</option>
              <option value="sha512">sha512</option>
            </Select>
            <Input id="image-checksum" value={values.checksum} onChange={set("checksum")} className="min-w-0 flex-1 font-mono" />
          </div>
        </Field>
        {run.error && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(run.error).message}
          </p>
        )}
      </form>
    </Dialog>
  );
}
