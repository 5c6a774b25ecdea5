import { AgentError, conflict, notFound } from "@nimbus/agent";
import {
  AgentErrorCode,
  appendStepLog,
  imageBuildFailure,
  imageBuildSteps,
  imageImportSteps,
  imageFileName,
  setStep,
  type ImageBuildParams,
  type ImageBuildProgress,
  type ImageBuildStepId,
  type ImageImportParams,
  type ImageImportProgress,
  type ImageImportStepId,
  type ImageDeleteRequest,
  type ImageEntry,
  type ImageImportRequest,
} from "@nimbus/domain";
import type { JobContext } from "@nimbus/agent";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

/** A simulated template: its virtual size (the lab has no file to read it from). */
const LAB_IMAGE_BYTES = 2 * 1024 ** 3;
/** Share of the virtual size the stored file holds (what the import writes). */
const STORED_SHARE = 0.25;

function exported(world: World, host: string, datastore: string) {
  if (!world.isPoweredOn(host)) throw new AgentError(AgentErrorCode.toolFailed, `${host} is powered off`);
  const ds = world.nfs.datastores.find((d) => d.path === datastore);
  if (!ds) throw notFound(`datastore ${datastore} on ${host}`);
  return ds;
}

const storageChanged = (world: World) => {
  for (const s of world.nfs.servers) world.changed(s.name, "storage");
};

/**
 * storage.imageImport on a lab storage server: takes lab time, as fetching and hashing would; the
 * format follows the source's extension (what qemu-img info would detect). `failingImageImports`
 * makes the checksum not match.
 */
export async function importImage(world: World, host: string, req: ImageImportRequest, hooks: LabImportHooks = {}): Promise<ImageEntry> {
  const step = hooks.step ?? (() => undefined);
  const ds = exported(world, host, req.datastore);
  const images = world.images.get(req.datastore) ?? [];
  if (images.some((i) => i.name === req.name)) throw conflict(`image ${req.name} already exists on ${req.datastore}`);
  const stored = Math.round(LAB_IMAGE_BYTES * STORED_SHARE);
  const where = req.source.kind === "file" ? req.source.path : req.source.url;
  step("fetch", "running");
  if (ds.usedBytes + stored > ds.totalBytes) throw new AgentError(AgentErrorCode.toolFailed, `writing ${imageFileName(req.name, "raw")}: No space left on device`);
  // The copy or download arrives in parts (what the real one reports as bytes).
  const parts = 4;
  for (let i = 1; i <= parts; i++) {
    await world.clock.sleep(((req.source.kind === "url" ? TIMINGS.imageDownloadMs : TIMINGS.imageImportMs) * 0.7) / parts, hooks.signal);
    if (!world.isPoweredOn(host)) throw new AgentError(AgentErrorCode.toolFailed, `${host} is powered off`);
    hooks.bytes?.(Math.round((stored * i) / parts), stored);
  }
  step("fetch", "succeeded", [`${stored} bytes from ${where}`]);
  step("verify", "running");
  await world.clock.sleep(TIMINGS.imageImportMs * 0.3, hooks.signal);
  if (world.failingImageImports.has(req.name))
    throw new AgentError(AgentErrorCode.toolFailed, `${where}: ${req.checksum.algorithm} checksum does not match the one given (got ${"0".repeat(16)}…)`);
  const format = /\.qcow2$/i.test(where) ? ("qcow2" as const) : ("raw" as const);
  step("verify", "succeeded", [`${req.checksum.algorithm} matches; qemu-img: ${format}`]);
  step("publish", "running");
  const entry: ImageEntry = {
    name: req.name,
    os: req.os,
    format,
    virtualSizeBytes: LAB_IMAGE_BYTES,
    checksum: req.checksum,
    source: req.source,
    datastore: req.datastore,
    file: imageFileName(req.name, format),
    createdAt: new Date().toISOString(),
  };
  // Checked again: another import of the same name may have finished meanwhile.
  const now = world.images.get(req.datastore) ?? [];
  if (now.some((i) => i.name === req.name)) throw conflict(`image ${req.name} already exists on ${req.datastore}`);
  world.images.set(req.datastore, [...now, entry]);
  ds.usedBytes += stored;
  storageChanged(world);
  step("publish", "succeeded", [`${req.datastore}/.nimbus-images/${entry.file} in the catalog and the index`]);
  return entry;
}

interface LabImportHooks {
  signal?: AbortSignal;
  step?: (id: ImageImportStepId, state: "running" | "succeeded", lines?: string[]) => void;
  bytes?: (done: number, total: number | null) => void;
}

/** storage.imageImport as the lab's job: the steps and bytes of importImage, cancel between parts. */
export async function importImageJob(world: World, host: string, params: ImageImportParams, ctx: JobContext<ImageImportProgress>): Promise<ImageImportProgress> {
  let progress: ImageImportProgress = { kind: "image-import", steps: imageImportSteps(params), bytesDone: 0, bytesTotal: null, image: null };
  const report = (patch: Partial<ImageImportProgress>) => {
    progress = { ...progress, ...patch };
    ctx.report(progress);
  };
  let current: ImageImportStepId = "fetch";
  try {
    const entry = await importImage(world, host, params, {
      signal: ctx.signal,
      step: (id, state, lines = []) => {
        if (state === "running") current = id;
        report({ steps: appendStepLog(setStep(progress.steps, id, state, new Date().toISOString()), id, lines) });
      },
      bytes: (done, total) => report({ bytesDone: done, bytesTotal: total }),
    });
    report({ image: entry });
    return progress;
  } catch (err) {
    const failed = imageBuildFailure(progress.steps, current, err instanceof Error ? err.message : String(err), ctx.signal.aborted);
    report({ steps: failed.steps });
    throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, failed.message);
  }
}

/** storage.imageDelete: the server checked the image is unused; this removes it from the catalog. */
export function deleteImage(world: World, host: string, req: ImageDeleteRequest): void {
  const ds = exported(world, host, req.datastore);
  const images = world.images.get(req.datastore) ?? [];
  if (!images.some((i) => i.name === req.name)) throw notFound(`image ${req.name} on ${req.datastore}`);
  world.images.set(req.datastore, images.filter((i) => i.name !== req.name));
  ds.usedBytes = Math.max(0, ds.usedBytes - Math.round(LAB_IMAGE_BYTES * STORED_SHARE));
  storageChanged(world);
}

/** What the real build prints, step by step (image-build.ts), for the lab's log. */
const BUILD_LINES = (name: string) => [
  `image ${name}: bootstrap from Debian's packages (mmdebstrap)…`,
  `I: running apt-get update... I: downloading packages with apt... I: extracting archives... (187 packages)`,
  `image ${name}: bootstrap from Debian's packages (mmdebstrap) done in 245.3 s`,
  `image ${name}: configure the guest… done`,
  `image ${name}: make the disk (sfdisk, mkfs.ext4 -d) done in 9.8 s`,
  `image ${name}: install the boot loader (extlinux) done in 4.1 s`,
  `image ${name}: write the qcow2 template done in 2.7 s`,
  `image ${name}: checksum done in 1.2 s`,
];

/**
 * storage.imageBuild on a lab storage server: the real build's steps in lab time (a tenth of the
 * real minutes), the datastore filling as the template is written. `fail-image-build IMAGE`
 * makes mmdebstrap fail half-way; a cancel stops it between lines. Nothing reaches the catalog
 * unless every step succeeded.
 */
export async function buildImage(world: World, host: string, params: ImageBuildParams, ctx: JobContext<ImageBuildProgress>): Promise<ImageBuildProgress> {
  let progress: ImageBuildProgress = { kind: "image-build", steps: imageBuildSteps(params), image: null, cached: false };
  const report = (patch: Partial<ImageBuildProgress>) => {
    progress = { ...progress, ...patch };
    ctx.report(progress);
  };
  const at = () => new Date().toISOString();
  const sleep = (ms: number) => world.clock.sleep(ms, ctx.signal);
  let current: ImageBuildStepId = "check";
  const run = async (id: ImageBuildStepId, work: () => Promise<void>) => {
    current = id;
    report({ steps: setStep(progress.steps, id, "running", at()) });
    await work();
    report({ steps: setStep(progress.steps, id, "succeeded", at()) });
  };
  const stored = Math.round(LAB_IMAGE_BYTES * STORED_SHARE);
  try {
    await run("check", async () => {
      const ds = exported(world, host, params.datastore);
      if ((world.images.get(params.datastore) ?? []).some((i) => i.name === params.recipe))
        throw conflict(`image ${params.recipe} already exists on ${params.datastore}: delete it first to build it again`);
      if (ds.usedBytes + stored > ds.totalBytes) throw new AgentError(AgentErrorCode.toolFailed, `${params.datastore}: No space left on device for the template`);
      await sleep(TIMINGS.imageBuildCheckMs);
      report({ steps: appendStepLog(progress.steps, "check", [`${params.datastore} is exported here; ${params.recipe} is not in its catalog`]) });
    });
    await run("build", async () => {
      const lines = BUILD_LINES(params.recipe);
      for (const [i, line] of lines.entries()) {
        await sleep(TIMINGS.imageBaseBuildMs / lines.length);
        if (!world.isPoweredOn(host)) throw new AgentError(AgentErrorCode.toolFailed, `${host} is powered off`);
        if (world.failingImageBuilds.has(params.recipe) && i === 1)
          throw new AgentError(AgentErrorCode.toolFailed, "mmdebstrap exited with 1: E: Failed to fetch http://deb.debian.org/debian/pool/main/l/linux-signed-amd64/linux-image-6.1.0-28-amd64_6.1.119-1_amd64.deb  Hash Sum mismatch");
        report({ steps: appendStepLog(progress.steps, "build", [line]) });
      }
    });
    await run("publish", async () => {
      const ds = exported(world, host, params.datastore);
      await sleep(TIMINGS.imageBuildCheckMs);
      const now = world.images.get(params.datastore) ?? [];
      if (now.some((i) => i.name === params.recipe)) throw conflict(`image ${params.recipe} appeared on ${params.datastore} while this one was built`);
      const entry: ImageEntry = {
        name: params.recipe,
        os: "debian11",
        format: "qcow2",
        virtualSizeBytes: LAB_IMAGE_BYTES,
        checksum: { algorithm: "sha512", value: labChecksum(params.recipe) },
        source: { kind: "built", recipe: params.recipe },
        datastore: params.datastore,
        file: imageFileName(params.recipe, "qcow2"),
        createdAt: at(),
      };
      world.images.set(params.datastore, [...now, entry]);
      ds.usedBytes += stored;
      storageChanged(world);
      report({ image: entry, steps: appendStepLog(progress.steps, "publish", [`${params.datastore}/.nimbus-images/${entry.file} in the catalog and the index`]) });
    });
    return progress;
  } catch (err) {
    const failed = imageBuildFailure(progress.steps, current, err instanceof Error ? err.message : String(err), ctx.signal.aborted);
    report({ steps: failed.steps });
    throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, failed.message);
  }
}

/** A stable fake sha512 per recipe (the lab has no file to hash). */
function labChecksum(name: string): string {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(16);
}
