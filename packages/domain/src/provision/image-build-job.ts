import { z } from "zod";
import { DatastorePath, ImageEntry, ImageImportRequest } from "./image.js";
import { OperationStep, appendStepLog, failureSummary, pendingStep, setStep } from "./steps.js";

/**
 * The offline base image built as an operation: the storage server exporting the datastore
 * builds it from Debian's packages (or reuses its cache) and publishes it in the datastore's
 * repository, with steps and the build's log lines like a create.
 */

/** The recipes a storage server knows how to build (one today: Debian 12 with SSH, NFS, Docker). */
export const BUILDABLE_IMAGES = ["debian-12-docker"] as const;
export const BuildableImage = z.enum(BUILDABLE_IMAGES, { error: `the base images Nimbus builds are: ${BUILDABLE_IMAGES.join(", ")}` });

/** What an admin asks for: a recipe, built into a datastore's repository. */
export const ImageBuildRequest = z.object({ datastore: DatastorePath, recipe: BuildableImage });
export type ImageBuildRequest = z.infer<typeof ImageBuildRequest>;

export const ImageBuildParams = ImageBuildRequest.extend({ jobId: z.string().min(1).max(64) });
export type ImageBuildParams = z.infer<typeof ImageBuildParams>;

export const ImageBuildStepId = z.enum(["check", "build", "publish"]);
export type ImageBuildStepId = z.infer<typeof ImageBuildStepId>;

export const ImageBuildProgress = z.object({
  kind: z.literal("image-build"),
  steps: z.array(OperationStep).max(8),
  /** The catalog entry once published. */
  image: ImageEntry.nullable(),
  /** True when the host's cache held this recipe's image and nothing was built. */
  cached: z.boolean(),
});
export type ImageBuildProgress = z.infer<typeof ImageBuildProgress>;

/** A build takes minutes (mmdebstrap ~4 min, the disk ~20 s); the server gives the job this long. */
export const IMAGE_BUILD_TIMEOUT_MS = 60 * 60_000;

export function imageBuildSteps(req: Pick<ImageBuildRequest, "datastore" | "recipe">): OperationStep[] {
  const step = (id: ImageBuildStepId, label: string, detail: string) => pendingStep(id, label, detail);
  return [
    step("check", "Check the storage server", `${req.datastore} is exported here, ${req.recipe} is not in its repository yet, the build tools are present`),
    step("build", "Build the image", `${req.recipe} from Debian's packages (mmdebstrap, the disk, extlinux), or the server's cached build`),
    step("publish", "Publish", `copy into ${req.datastore}/.nimbus-images and rewrite the catalog and the virt-builder index`),
  ];
}

/** The problem with building `recipe` into `datastore` given its catalog now, or null. */
export function imageBuildProblem(req: Pick<ImageBuildRequest, "datastore" | "recipe">, catalog: readonly Pick<ImageEntry, "name">[]): string | null {
  if (catalog.some((i) => i.name === req.recipe)) return `image ${req.recipe} already exists on ${req.datastore}: delete it first to build it again`;
  return null;
}

/** A build or import that stopped at `current`: that step failed with the reason as its last line, and the operation's error. */
export function imageBuildFailure(steps: readonly OperationStep[], current: string, reason: string, cancelled: boolean): { steps: OperationStep[]; message: string } {
  const failed = appendStepLog(setStep(steps, current, "failed", new Date().toISOString()), current, [cancelled ? "cancelled" : reason]);
  const label = failed.find((s) => s.id === current)!.label;
  return { steps: failed, message: cancelled ? `cancelled during "${label}"` : (failureSummary(failed) ?? reason) };
}

/**
 * An import as an operation (image-import): the storage server fetches or copies the file (bytes
 * reported as they arrive), verifies the admin's checksum and the format, then publishes.
 */
export const ImageImportParams = ImageImportRequest.extend({ jobId: z.string().min(1).max(64) });
export type ImageImportParams = z.infer<typeof ImageImportParams>;

export const ImageImportStepId = z.enum(["fetch", "verify", "publish"]);
export type ImageImportStepId = z.infer<typeof ImageImportStepId>;

export const ImageImportProgress = z.object({
  kind: z.literal("image-import"),
  steps: z.array(OperationStep).max(8),
  bytesDone: z.number().nonnegative(),
  /** Known for a file and for a download that says its length. */
  bytesTotal: z.number().nonnegative().nullable(),
  image: ImageEntry.nullable(),
});
export type ImageImportProgress = z.infer<typeof ImageImportProgress>;

export const IMAGE_IMPORT_TIMEOUT_MS = 30 * 60_000;

export function imageImportSteps(req: Pick<ImageImportRequest, "datastore" | "name" | "source" | "checksum">): OperationStep[] {
  const step = (id: ImageImportStepId, label: string, detail: string) => pendingStep(id, label, detail);
  const from = req.source.kind === "file" ? `copy ${req.source.path}` : `download ${req.source.url}`;
  return [
    step("fetch", "Fetch", `${from} on the storage server`),
    step("verify", "Verify", `${req.checksum.algorithm} against the one given, and the format (qcow2 or raw)`),
    step("publish", "Publish", `${req.name} into ${req.datastore}/.nimbus-images, catalog and index rewritten`),
  ];
}
