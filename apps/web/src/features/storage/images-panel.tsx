"use client";
import { BUILDABLE_IMAGES, type ImageEntry, type Operation } from "@nimbus/domain";
import Link from "next/link";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { Panel } from "@/components/ui/panel";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { useNow } from "@/lib/clock";
import { errorInfo } from "@/lib/errors";
import { notify, watchOperation } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useOperation } from "@/lib/use-operation";
import { operationHref } from "@/lib/hrefs";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { LiveOperation } from "@/features/operations/live-operation";
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
  const [building, setBuilding] = useState(false);
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  // Builds and imports running now and those that ended in the last minutes (their outcome stays in view).
  const recent = (ops.data ?? []).filter((o) => (o.kind === "image-build" || o.kind === "image-import") && (!o.finishedAt || now - Date.parse(o.finishedAt) < KEEP_ENDED_MS));
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
          <div className="flex gap-2">
            <Button size="sm" onClick={() => setBuilding(true)} disabled={!datastores.length} data-testid="image-build-open">
              Build base image…
            </Button>
            <Button size="sm" onClick={() => setImporting(true)} disabled={!datastores.length} data-testid="image-import-open">
              Import…
            </Button>
          </div>
        ) : null
      }
    >
      {recent.length > 0 && <ImageOperations ops={recent} onPublished={() => void refresh()} />}
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
      <BuildImageDialog open={building} datastores={datastores} onClose={() => setBuilding(false)} />
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
const BUILD_FORM_ID = "image-build-form";
const KEEP_ENDED_MS = 10 * 60_000;

/** Image builds and imports as they run: steps live from the operation, and its own page for the whole log. */
function ImageOperations({ ops, onPublished }: { ops: readonly Operation[]; onPublished: () => void }) {
  return (
    <ul className="divide-y divide-border border-b border-border" data-testid="image-operations">
      {ops.map((op) => (
        <ImageOperationRow key={op.id} initial={op} onPublished={onPublished} />
      ))}
    </ul>
  );
}

/** One build or import, live; the catalog is read again once it published (the list is not pushed). */
function ImageOperationRow({ initial, onPublished }: { initial: Operation; onPublished: () => void }) {
  const { data } = useOperation(initial.id, initial);
  const op = data ?? initial;
  const published = op.state === "succeeded";
  useEffect(() => {
    if (published) onPublished();
    // Once per operation reaching success, not on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [published]);
  return (
    <li className="flex flex-col gap-1.5 px-4 py-3" data-testid={`${op.kind}-${op.target.name}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <span className="text-[12.5px] font-medium">{op.summary}</span>
        <Link href={operationHref(op.id)} className="text-[12.5px] text-accent underline" data-testid={`${op.kind}-details`}>
          Steps and log
        </Link>
      </div>
      <LiveOperation initial={op} compact />
    </li>
  );
}

/**
 * Nimbus's own base image, built by the storage server from Debian's packages (offline: no
 * public template is fetched) and published in the datastore's repository.
 */
function BuildImageDialog({ open, datastores, onClose }: { open: boolean; datastores: readonly string[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [datastore, setDatastore] = useState("");
  const [recipe, setRecipe] = useState<(typeof BUILDABLE_IMAGES)[number]>(BUILDABLE_IMAGES[0]);
  const run = useAction(
    trpc.images.build.mutationOptions({
      onSuccess: ({ operationId }, v) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Build ${v.recipe} into ${v.datastore}` });
        void qc.invalidateQueries({ queryKey: trpc.operations.list.queryKey() });
        onClose();
      },
    }),
  );
  const close = () => {
    run.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      title="Build base image"
      description="The storage server builds Debian 12 with SSH, the NFS client, Docker and a serial console from Debian's packages (about 5 minutes; a build it made before is reused) and publishes it for new instances."
      testId="image-build-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form={BUILD_FORM_ID} variant="primary" busy={run.isPending} data-testid="image-build-start">
            Build
          </Button>
        </>
      }
    >
      <form
        id={BUILD_FORM_ID}
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate({ datastore: datastore || datastores[0] || "", recipe });
        }}
      >
        <Field label="Image" htmlFor="image-build-recipe">
          <Select id="image-build-recipe" value={recipe} onChange={(e) => setRecipe(e.target.value as (typeof BUILDABLE_IMAGES)[number])}>
            {BUILDABLE_IMAGES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </Select>
        </Field>
        <Field label="Datastore" htmlFor="image-build-datastore">
          <Select id="image-build-datastore" value={datastore || datastores[0]} onChange={(e) => setDatastore(e.target.value)}>
            {datastores.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </Select>
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

function ImportImageDialog({ open, datastores, onClose, onImported }: { open: boolean; datastores: readonly string[]; onClose: () => void; onImported: () => void }) {
  const trpc = useTRPC();
  const empty: ImageImportValues = { name: "", os: "debian12", datastore: datastores[0] ?? "", source: "", algorithm: "sha256", checksum: "" };
  const [values, setValues] = useState(empty);
  const [errors, setErrors] = useState<ReturnType<typeof parseImageImport>["errors"]>({});
  const run = useAction(
    trpc.images.import.mutationOptions({
      onSuccess: ({ operationId }, v) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Import ${v.name} into ${v.datastore}` });
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
