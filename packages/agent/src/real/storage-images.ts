import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AgentErrorCode,
  IMAGE_CATALOG_FILE,
  IMAGE_REPOSITORY_DIR,
  ImageEntry,
  imageFileName,
  virtBuilderIndex,
  type Checksum,
  type ImageDeleteRequest,
  type ImageImportRequest,
} from "@nimbus/domain";
import type { ImageDriver } from "../drivers.js";
import { AgentError, conflict, notFound } from "../errors.js";
import { parseQemuImgInfo } from "./virt-disk-parse.js";
import type { Tool } from "./tool.js";

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
  ) {}

  import(req: ImageImportRequest): Promise<ImageEntry> {
    return this.serialized(() => this.importNow(req));
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

  private async importNow(req: ImageImportRequest): Promise<ImageEntry> {
    const dir = await this.repository(req.datastore);
    await mkdir(dir, { recursive: true });
    const catalog = await readCatalog(dir, req.datastore);
    if (catalog.some((i) => i.name === req.name)) throw conflict(`image ${req.name} already exists on ${req.datastore}`);
    const partial = join(dir, `.${req.name}.partial`);
    try {
      await this.fetchTo(req.source, partial);
      const sum = await digest(partial, req.checksum.algorithm);
      if (sum !== req.checksum.value) throw failed(`${req.checksum.algorithm} of the image is ${sum.slice(0, 16)}…, not the ${req.checksum.value.slice(0, 16)}… given`);
      const info = parseQemuImgInfo(await this.qemuImg.run(["info", "--output=json", "--", partial], { timeoutMs: 60_000 }));
      if (info.format !== "qcow2" && info.format !== "raw") throw failed(`the image is ${info.format}; images are qcow2 or raw`);
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
      await rename(partial, join(dir, file));
      await writeRepository(dir, [...catalog, entry]);
      return entry;
    } finally {
      await rm(partial, { force: true });
    }
  }

  private async fetchTo(source: ImageImportRequest["source"], target: string): Promise<void> {
    if (source.kind === "file") {
      const st = await stat(source.path).catch(() => null);
      if (!st?.isFile()) throw notFound(`file ${source.path}`);
      await copyFile(source.path, target);
      return;
    }
    const res = await fetch(source.url, { redirect: "follow", signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) }).catch((e: unknown) => {
      throw failed(`fetching ${source.url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
    });
    if (!res.ok || !res.body) throw failed(`fetching ${source.url}: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(target));
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
  await write("index", virtBuilderIndex(catalog.map((image) => ({ image }))));
}
