import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { homedir } from "node:os";
import {
  AgentErrorCode,
  IMAGE_CATALOG_FILE,
  appendStepLog,
  imageBuildFailure,
  imageBuildSteps,
  imageImportSteps,
  setStep,
  IMAGE_REPOSITORY_DIR,
  ImageEntry,
  imageFileName,
  virtBuilderIndex,
  type Checksum,
  type ImageBuildParams,
  type ImageBuildProgress,
  type ImageBuildStepId,
  type ImageImportParams,
  type ImageImportProgress,
  type ImageImportStepId,
  type ImageDeleteRequest,
  type ImageImportRequest,
} from "@nimbus/domain";
import type { ImageDriver, JobContext } from "../drivers.js";
import { buildBaseImage, type ImageBuildOptions, type ImageBuildResult } from "./image-build.js";
import { DEFAULT_BASE_IMAGE, ROOT_PARTITION } from "./image-build-recipe.js";
import { DEFAULT_IMAGE_CACHE } from "./image-build-command.js";
import { AgentError, conflict, notFound } from "../errors.js";
import { parseQemuImgInfo } from "./virt-disk-parse.js";
import type { Tool } from "./tool.js";

/** What an import tells its job as it goes (all optional: a plain import reports nothing). */
interface ImportHooks {
  signal?: AbortSignal;
  step?: (id: ImageImportStepId, state: "running" | "succeeded", lines?: string[]) => void;
  bytes?: (done: number, total: number | null) => void;
}

/** A download may take long on a slow link; the server waits as long (IMPORT_TIMEOUT_MS). */
const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

const failed = (message: string) => new AgentError(AgentErrorCode.toolFailed, message);

async function digest(path: string, algorithm: Checksum["algorithm"]): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/**
 * A storage server's image repositories (`<export>/.nimbus-images`): imports fetch or copy the
 * image here (this host reaches the URL, never the Nimbus server), verify the admin's checksum,
 * let qemu-img say the format, then rewrite catalog.json and the virt-builder index. The image
 * is written under a dot name first and renamed once verified, so a failed import leaves nothing
 * a hypervisor could build from. One change at a time per host: catalog rewrites must not race.
 */
export class RealImageRepository implements ImageDriver {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly qemuImg: Tool,
    /** Local directory of an exported datastore, or null when this host does not export it. */
    private readonly localOf: (datastore: string) => Promise<string | null>,
    private readonly buildOpts: {
      /** Built images kept between builds: /var/cache/nimbus-images for root, ~/.cache/nimbus-images otherwise. */
      cacheDir?: string;
      /** The build itself (tests pass a stand-in). */
      build?: (opts: ImageBuildOptions) => Promise<ImageBuildResult>;
    } = {},
  ) {}

  /**
   * `storage.imageBuild`: check, build (or reuse this host's cache; the build's own log lines
   * become the step's log), publish into the datastore's repository (the file renamed in, then
   * catalog and index rewritten under the same lock as imports). A failure or cancel leaves no
   * file in the repository and the catalog as it was.
   */
  async build(params: ImageBuildParams, ctx: JobContext<ImageBuildProgress>): Promise<ImageBuildProgress> {
    let progress: ImageBuildProgress = { kind: "image-build", steps: imageBuildSteps(params), image: null, cached: false };
    const report = (patch: Partial<ImageBuildProgress>) => {
      progress = { ...progress, ...patch };
      ctx.report(progress);
    };
    const at = () => new Date().toISOString();
    let current: ImageBuildStepId = "check";
    const run = async <T>(id: ImageBuildStepId, work: () => Promise<T>): Promise<T> => {
      current = id;
      if (ctx.signal.aborted) throw new AgentError(AgentErrorCode.toolFailed, "cancelled");
      report({ steps: setStep(progress.steps, id, "running", at()) });
      const out = await work();
      report({ steps: setStep(progress.steps, id, "succeeded", at()) });
      return out;
    };
    const recipe = { ...DEFAULT_BASE_IMAGE, name: params.recipe };
    let staging: string | null = null;
    try {
      const dir = await run("check", async () => {
        const d = await this.repository(params.datastore);
        await mkdir(d, { recursive: true });
        if ((await readCatalog(d, params.datastore)).some((i) => i.name === params.recipe))
          throw conflict(`image ${params.recipe} already exists on ${params.datastore}: delete it first to build it again`);
        report({ steps: appendStepLog(progress.steps, "check", [`${params.datastore} is exported here (${d}); ${params.recipe} is not in its catalog`]) });
        return d;
      });
      staging = join(dir, `.${params.recipe}.build`);
      const built = await run("build", () =>
        (this.buildOpts.build ?? buildBaseImage)({
          recipe,
          cacheDir: this.buildOpts.cacheDir ?? (process.getuid?.() === 0 ? DEFAULT_IMAGE_CACHE : join(homedir(), ".cache", "nimbus-images")),
          outDir: staging!,
          signal: ctx.signal,
          log: (_level, message) => report({ steps: appendStepLog(progress.steps, "build", [message]) }),
        }),
      );
      report({ cached: built.cached });
      const entry = await run("publish", () =>
        this.serialized(async () => {
          const catalog = await readCatalog(dir, params.datastore);
          if (catalog.some((i) => i.name === params.recipe)) throw conflict(`image ${params.recipe} appeared on ${params.datastore} while this one was built`);
          const e = ImageEntry.parse({ ...built.image, datastore: params.datastore, createdAt: new Date().toISOString() });
          await rename(join(staging!, built.image.file), join(dir, e.file));
          await writeRepository(dir, [...catalog, e]);
          report({ steps: appendStepLog(progress.steps, "publish", [`${join(dir, e.file)} (${e.format}, sha512 ${e.checksum.value.slice(0, 16)}…) in the catalog and the index`]) });
          return e;
        }),
      );
      report({ image: entry });
      return progress;
    } catch (err) {
      const failed = imageBuildFailure(progress.steps, current, err instanceof Error ? err.message : String(err), ctx.signal.aborted);
      report({ steps: failed.steps });
      throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, failed.message);
    } finally {
      if (staging) await rm(staging, { recursive: true, force: true });
    }
  }

  import(req: ImageImportRequest, hooks: ImportHooks = {}): Promise<ImageEntry> {
    return this.serialized(() => this.importNow(req, hooks));
  }

  /** `storage.imageImport` as a job: fetch (bytes as they arrive), verify, publish; cancel stops the copy or download and leaves nothing. */
  async importJob(params: ImageImportParams, ctx: JobContext<ImageImportProgress>): Promise<ImageImportProgress> {
    let progress: ImageImportProgress = { kind: "image-import", steps: imageImportSteps(params), bytesDone: 0, bytesTotal: null, image: null };
    const report = (patch: Partial<ImageImportProgress>) => {
      progress = { ...progress, ...patch };
      ctx.report(progress);
    };
    let current: ImageImportStepId = "fetch";
    let lastBytes = 0;
    try {
      const entry = await this.import(params, {
        signal: ctx.signal,
        step: (id, state, lines = []) => {
          if (state === "running") current = id;
          report({ steps: appendStepLog(setStep(progress.steps, id, state, new Date().toISOString()), id, lines) });
        },
        bytes: (done, total) => {
          // At most one report per 32 MiB, and the last one.
          if (done - lastBytes < 32 * 1024 * 1024 && done !== total) return;
          lastBytes = done;
          report({ bytesDone: done, bytesTotal: total });
        },
      });
      report({ image: entry });
      return progress;
    } catch (err) {
      const failedAt = imageBuildFailure(progress.steps, current, err instanceof Error ? err.message : String(err), ctx.signal.aborted);
      report({ steps: failedAt.steps });
      throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, failedAt.message);
    }
  }

  delete(req: ImageDeleteRequest): Promise<void> {
    return this.serialized(() => this.deleteNow(req));
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async repository(datastore: string): Promise<string> {
    const local = await this.localOf(datastore);
    if (!local) throw notFound(`datastore ${datastore} on this host`);
    return join(local, IMAGE_REPOSITORY_DIR);
  }

  private async importNow(req: ImageImportRequest, hooks: ImportHooks): Promise<ImageEntry> {
    const step = hooks.step ?? (() => undefined);
    const dir = await this.repository(req.datastore);
    await mkdir(dir, { recursive: true });
    const catalog = await readCatalog(dir, req.datastore);
    if (catalog.some((i) => i.name === req.name)) throw conflict(`image ${req.name} already exists on ${req.datastore}`);
    const partial = join(dir, `.${req.name}.partial`);
    try {
      step("fetch", "running");
      const bytes = await this.fetchTo(req.source, partial, hooks);
      step("fetch", "succeeded", [`${bytes} bytes from ${req.source.kind === "file" ? req.source.path : req.source.url}`]);
      step("verify", "running");
      const sum = await digest(partial, req.checksum.algorithm);
      if (sum !== req.checksum.value) throw failed(`${req.checksum.algorithm} of the image is ${sum.slice(0, 16)}…, not the ${req.checksum.value.slice(0, 16)}… given`);
      const info = parseQemuImgInfo(await this.qemuImg.run(["info", "--output=json", "--", partial], { timeoutMs: 60_000, signal: hooks.signal }));
      if (info.format !== "qcow2" && info.format !== "raw") throw failed(`the image is ${info.format}; images are qcow2 or raw`);
      step("verify", "succeeded", [`${req.checksum.algorithm} matches; qemu-img: ${info.format}, virtual size ${info.virtualSize} bytes`]);
      step("publish", "running");
      const file = imageFileName(req.name, info.format);
      const entry = ImageEntry.parse({
        name: req.name,
        os: req.os,
        format: info.format,
        virtualSizeBytes: info.virtualSize,
        checksum: req.checksum,
        source: req.source,
        datastore: req.datastore,
        file,
        createdAt: new Date().toISOString(),
      });
      if (hooks.signal?.aborted) throw failed("cancelled");
      await rename(partial, join(dir, file));
      await writeRepository(dir, [...catalog, entry]);
      step("publish", "succeeded", [`${join(dir, file)} in the catalog and the index`]);
      return entry;
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** Copies or downloads to `target`, counting bytes; the signal stops it. Returns the bytes written. */
  private async fetchTo(source: ImageImportRequest["source"], target: string, hooks: ImportHooks): Promise<number> {
    let done = 0;
    let total: number | null = null;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        hooks.bytes?.(done, total);
        cb(null, chunk);
      },
    });
    if (source.kind === "file") {
      const st = await stat(source.path).catch(() => null);
      if (!st?.isFile()) throw notFound(`file ${source.path}`);
      total = st.size;
      await pipeline(createReadStream(source.path), counter, createWriteStream(target), { signal: hooks.signal });
      return done;
    }
    const signal = hooks.signal ? AbortSignal.any([hooks.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]) : AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
    const res = await fetch(source.url, { redirect: "follow", signal }).catch((e: unknown) => {
      throw failed(`fetching ${source.url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
    });
    if (!res.ok || !res.body) throw failed(`fetching ${source.url}: HTTP ${res.status}`);
    const length = Number(res.headers.get("content-length"));
    total = Number.isFinite(length) && length > 0 ? length : null;
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), counter, createWriteStream(target), { signal });
    return done;
  }

  private async deleteNow(req: ImageDeleteRequest): Promise<void> {
    const dir = await this.repository(req.datastore);
    const catalog = await readCatalog(dir, req.datastore);
    const entry = catalog.find((i) => i.name === req.name);
    if (!entry) throw notFound(`image ${req.name} on ${req.datastore}`);
    // Catalog first: a hypervisor must not be offered a file that is about to go.
    await writeRepository(dir, catalog.filter((i) => i !== entry));
    await rm(join(dir, entry.file), { force: true });
  }
}

/** The catalog as the storage driver reports it: entries that parse and name this datastore. */
async function readCatalog(dir: string, datastore: string): Promise<ImageEntry[]> {
  const text = await readFile(join(dir, IMAGE_CATALOG_FILE), "utf8").catch(() => "[]");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw failed(`${join(dir, IMAGE_CATALOG_FILE)} is not JSON; fix or remove it before changing the repository`);
  }
  return catalogEntries(raw, datastore);
}

/** Entries of a parsed catalog.json that are valid and name this datastore (anyone with write access to the export can change the file). */
export function catalogEntries(raw: unknown, datastore: string): ImageEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((e) => {
    const entry = ImageEntry.safeParse(e);
    return entry.success && entry.data.datastore === datastore ? [entry.data] : [];
  });
}

/** catalog.json and index, each written beside and renamed, so a reader never sees half a file. */
async function writeRepository(dir: string, catalog: ImageEntry[]): Promise<void> {
  const write = async (name: string, text: string) => {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, text);
    await rename(tmp, join(dir, name));
  };
  await write(IMAGE_CATALOG_FILE, `${JSON.stringify(catalog, null, 2)}\n`);
  // Images Nimbus built have their root on the first partition: virt-builder grows it to the disk.
  await write("index", virtBuilderIndex(catalog.map((image) => (image.source.kind === "built" ? { image, expand: ROOT_PARTITION } : { image }))));
}
