import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { IMAGE_REPOSITORY_DIR, imageCatalog, type ImageEntry, type ImageImportProgress, type Operation } from "@nimbus/domain";
import { buildBaseImage, DEFAULT_BASE_IMAGE, DEFAULT_IMAGE_CACHE, type ImageBuildResult } from "@nimbus/agent/real";
import type { Fleet, OperationManager } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { EXPORT_PATH } from "../../src/topology.js";
import { waitFor } from "../../src/wait.js";

/**
 * The offline Debian image in the datastore's repository, as the server puts it there: built (a
 * cache hit when the image test or an earlier run built it: never built twice), published into
 * `staging` inside the export and imported by an image-import operation on the VIP holder
 * (`OperationManager.startImageImport`, as `images.import` does), then waited for in the catalog
 * the storage servers push. Shared by the boot test and the swarm worker test.
 */
export const BASE_IMAGE = DEFAULT_BASE_IMAGE.name;
const CACHE = process.env.NIMBUS_IMAGE_CACHE ?? DEFAULT_IMAGE_CACHE;

/**
 * Builds the base image or reuses the cached build; while another test process holds the build
 * lock (the image test runs beside the lab's suite; a cold build takes minutes), waits for it and
 * then reuses what it built.
 */
export async function buildBaseImageWhenFree(outDir: string, log: (level: string, message: string) => void): Promise<ImageBuildResult> {
  const deadline = Date.now() + 45 * 60_000;
  for (;;) {
    try {
      return await buildBaseImage({ recipe: DEFAULT_BASE_IMAGE, cacheDir: CACHE, outDir, log });
    } catch (err) {
      if (!/is already being built/.test((err as Error).message) || Date.now() > deadline) throw err;
      log("info", `${(err as Error).message}: waiting for that build`);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}

export async function ensureBaseImage(lab: RealLab, fleet: Fleet, ops: OperationManager, staging: string, tag: string): Promise<ImageEntry> {
  const built: ImageBuildResult = await buildBaseImageWhenFree(staging, (level, message) => process.stderr.write(`[${tag} image ${level}] ${message}\n`));
  const vip = await lab.vipHolder();
  expect(vip, "the storage VIP is held").not.toBeNull();
  const listed = () => imageCatalog(fleet.hosts()).find((d) => d.datastore === EXPORT_PATH)?.images.find((i) => i.name === BASE_IMAGE);
  const existing = listed();
  if (existing && existing.checksum.value !== built.image.checksum.value)
    await fleet.request(vip!, "storage.imageDelete", { datastore: EXPORT_PATH, name: BASE_IMAGE });
  if (!existing || existing.checksum.value !== built.image.checksum.value) {
    // The published file is a hard link to the cache (root only); the agent (the nimbus user) copies it from inside the export.
    const t0 = Date.now();
    const started = await ops.startImageImport(
      vip!,
      { datastore: EXPORT_PATH, name: BASE_IMAGE, os: built.image.os, source: { kind: "file", path: join(EXPORT_PATH, staging.slice(lab.layout.instance.length), built.image.file) }, checksum: built.image.checksum },
      "real-lab-test",
    );
    const imported = await waitFor(`image import ${started.id} to end`, async () => {
      const op = await ops.get(started.id);
      return op && op.state !== "running" && op.state !== "pending" ? op : null;
    }, { timeoutMs: 10 * 60_000, intervalMs: 1000 }) as Operation;
    process.stderr.write(`[${tag}] image import ${(Date.now() - t0) / 1000} s\n`);
    expect(imported.error).toBeNull();
    expect(imported.steps.map((st) => [st.id, st.state])).toEqual([["fetch", "succeeded"], ["verify", "succeeded"], ["publish", "succeeded"]]);
    const p = imported.progress as ImageImportProgress;
    expect(p.bytesDone).toBe(p.bytesTotal);
    expect(p.image).toMatchObject({ name: BASE_IMAGE, format: "qcow2", datastore: EXPORT_PATH });
  }
  const image = await waitFor(`${BASE_IMAGE} in the catalog the storage servers push`, listed, { timeoutMs: 30_000 });
  const index = await readFile(join(lab.layout.instance, IMAGE_REPOSITORY_DIR, "index"), "utf8");
  expect(index).toContain(`[${BASE_IMAGE}]`);
  return image;
}
