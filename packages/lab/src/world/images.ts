import { AgentError, conflict, notFound } from "@nimbus/agent";
import { AgentErrorCode, imageFileName, type ImageDeleteRequest, type ImageEntry, type ImageImportRequest } from "@nimbus/domain";
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
export async function importImage(world: World, host: string, req: ImageImportRequest): Promise<ImageEntry> {
  const ds = exported(world, host, req.datastore);
  const images = world.images.get(req.datastore) ?? [];
  if (images.some((i) => i.name === req.name)) throw conflict(`image ${req.name} already exists on ${req.datastore}`);
  const stored = Math.round(LAB_IMAGE_BYTES * STORED_SHARE);
  if (ds.usedBytes + stored > ds.totalBytes) throw new AgentError(AgentErrorCode.toolFailed, `writing ${imageFileName(req.name, "raw")}: No space left on device`);
  await world.clock.sleep(TIMINGS.imageImportMs);
  const where = req.source.kind === "file" ? req.source.path : req.source.url;
  if (world.failingImageImports.has(req.name))
    throw new AgentError(AgentErrorCode.toolFailed, `${where}: ${req.checksum.algorithm} checksum does not match the one given (got ${"0".repeat(16)}…)`);
  const format = /\.qcow2$/i.test(where) ? ("qcow2" as const) : ("raw" as const);
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
  return entry;
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
