import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentErrorCode, type ImageBuildProgress, type ImageImportProgress } from "@nimbus/domain";
import type { AgentError } from "../../src/errors.js";
import { AgentError as AgentErrorClass } from "../../src/errors.js";
import type { ImageBuildOptions, ImageBuildResult } from "../../src/real/image-build.js";
import { RealImageRepository } from "../../src/real/storage-images.js";
import { Tool } from "../../src/real/tool.js";

/**
 * storage.imageBuild on a real storage server, with the build itself stood in (the real one is
 * the image test's): the steps and their log lines, the file renamed into the repository, the
 * catalog and index rewritten; a failure or a cancel leaves the repository as it was.
 */
const qemuImg = new Tool("qemu-img", { path: "qemu-img", args: [], env: {} });
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;
const SUM = "c".repeat(128);

let dir: string;
let exportDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-image-build-"));
  exportDir = join(dir, "export");
  mkdirSync(exportDir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in build that writes the template into outDir as publish() does, saying what it does. */
function fakeBuild(opts: { fail?: string; waitForAbort?: boolean } = {}) {
  const seen: ImageBuildOptions[] = [];
  const build = async (o: ImageBuildOptions): Promise<ImageBuildResult> => {
    seen.push(o);
    o.log("info", `image ${o.recipe.name}: bootstrap from Debian's packages (mmdebstrap)…`);
    if (opts.waitForAbort)
      await new Promise<void>((_, rej) => o.signal!.addEventListener("abort", () => rej(new AgentErrorClass(AgentErrorCode.toolFailed, "mmdebstrap was killed")), { once: true }));
    if (opts.fail) throw new AgentErrorClass(AgentErrorCode.toolFailed, opts.fail);
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, `${o.recipe.name}.qcow2`), "qcow2 template");
    writeFileSync(join(o.outDir, "index"), "[only this one]\n");
    o.log("info", `image ${o.recipe.name}: published`);
    return {
      cached: false,
      cacheDir: join(dir, "cache"),
      index: join(o.outDir, "index"),
      image: { name: o.recipe.name, os: "debian11", format: "qcow2", virtualSizeBytes: 2 * 1024 ** 3, checksum: { algorithm: "sha512", value: SUM }, source: { kind: "built", recipe: o.recipe.name }, file: `${o.recipe.name}.qcow2`, createdAt: new Date().toISOString() },
      seconds: 1,
    };
  };
  return { build, seen };
}

const repoWith = (build: (o: ImageBuildOptions) => Promise<ImageBuildResult>) =>
  new RealImageRepository(qemuImg, async (ds) => (ds === "/instance" ? exportDir : null), { cacheDir: join(dir, "cache"), build });

function ctx(abort?: AbortController) {
  const reports: ImageBuildProgress[] = [];
  return { reports, ctx: { report: (p: ImageBuildProgress) => reports.push(p), signal: (abort ?? new AbortController()).signal } };
}
const params = { jobId: "op-1", datastore: "/instance", recipe: "debian-12-docker" as const };
const repoDir = () => join(exportDir, ".nimbus-images");

describe("RealImageRepository.build", () => {
  it("checks, builds into a staging directory with the cache given, publishes the file, catalog and index (with expand for a built image)", async () => {
    const { build, seen } = fakeBuild();
    const { ctx: c, reports } = ctx();
    const done = await repoWith(build).build(params, c);
    expect(done.steps.map((s) => [s.id, s.state])).toEqual([["check", "succeeded"], ["build", "succeeded"], ["publish", "succeeded"]]);
    expect(done.steps[1]!.log).toContain("image debian-12-docker: bootstrap from Debian's packages (mmdebstrap)…");
    expect(done.image).toMatchObject({ name: "debian-12-docker", datastore: "/instance", source: { kind: "built", recipe: "debian-12-docker" } });
    expect(seen[0]!.cacheDir).toBe(join(dir, "cache"));
    expect(seen[0]!.outDir.startsWith(repoDir())).toBe(true);
    expect(readFileSync(join(repoDir(), "debian-12-docker.qcow2"), "utf8")).toBe("qcow2 template");
    const catalog = JSON.parse(readFileSync(join(repoDir(), "catalog.json"), "utf8")) as { name: string }[];
    expect(catalog.map((e) => e.name)).toEqual(["debian-12-docker"]);
    const index = readFileSync(join(repoDir(), "index"), "utf8");
    expect(index).toContain("[debian-12-docker]");
    expect(index).toContain("expand=/dev/sda1");
    // The staging directory is gone: only the template, catalog and index remain.
    expect(readdirSync(repoDir()).sort()).toEqual(["catalog.json", "debian-12-docker.qcow2", "index"]);
    // Progress arrived step by step, the first report with the build pending.
    expect(reports[0]!.steps.map((s) => s.state)).toEqual(["running", "pending", "pending"]);
  });

  it("a failed build fails its step with the tool's words and leaves the repository as it was", async () => {
    const { ctx: c, reports } = ctx();
    const err = await reject(repoWith(fakeBuild({ fail: "mmdebstrap exited with 1: E: Hash Sum mismatch" }).build).build(params, c));
    expect(err.code).toBe(AgentErrorCode.toolFailed);
    expect(err.message).toBe("Build the image failed: mmdebstrap exited with 1: E: Hash Sum mismatch");
    expect(reports.at(-1)!.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "pending"]);
    expect(existsSync(join(repoDir(), "catalog.json"))).toBe(false);
    expect(readdirSync(repoDir())).toEqual([]);
  });

  it("a cancel during the build ends it as cancelled and leaves nothing", async () => {
    const abort = new AbortController();
    const { ctx: c, reports } = ctx(abort);
    const running = repoWith(fakeBuild({ waitForAbort: true }).build).build(params, c);
    await new Promise((r) => setImmediate(r));
    abort.abort();
    const err = await reject(running);
    expect(err.message).toBe('cancelled during "Build the image"');
    expect(reports.at(-1)!.steps[1]!.log.at(-1)).toBe("cancelled");
    expect(readdirSync(repoDir())).toEqual([]);
  });

  it("refuses a recipe already in the catalog, and a datastore this host does not export", async () => {
    const repo = repoWith(fakeBuild().build);
    await repo.build(params, ctx().ctx);
    const again = await reject(repo.build({ ...params, jobId: "op-2" }, ctx().ctx));
    expect(again.code).toBe(AgentErrorCode.conflict);
    expect(again.message).toMatch(/^Check the storage server failed: image debian-12-docker already exists on \/instance/);
    const elsewhere = await reject(repo.build({ ...params, jobId: "op-3", datastore: "/other" }, ctx().ctx));
    expect(elsewhere.code).toBe(AgentErrorCode.notFound);
  });
});

describe("RealImageRepository.importJob (storage.imageImport as a job)", () => {
  const repo = () => new RealImageRepository(qemuImg, async (ds) => (ds === "/instance" ? exportDir : null));
  const raw = () => {
    const src = join(dir, "src.img");
    writeFileSync(src, Buffer.alloc(1024 * 1024, 7));
    return src;
  };
  const sha512 = (path: string) => createHash("sha512").update(readFileSync(path)).digest("hex");
  const importParams = (src: string, sum: string) => ({
    jobId: "op-imp",
    datastore: "/instance",
    name: "raw-one",
    os: "debian12",
    source: { kind: "file" as const, path: src },
    checksum: { algorithm: "sha512" as const, value: sum },
  });

  it("reports fetch (with the bytes copied), verify (qemu-img's format) and publish, then the entry", async () => {
    const src = raw();
    const c = ctx();
    const reports: unknown[] = [];
    const done = await repo().importJob(importParams(src, sha512(src)), { report: (p: ImageImportProgress) => reports.push(p), signal: c.ctx.signal });
    expect(done.steps.map((s) => [s.id, s.state])).toEqual([["fetch", "succeeded"], ["verify", "succeeded"], ["publish", "succeeded"]]);
    expect(done.steps[0]!.log).toEqual([`1048576 bytes from ${src}`]);
    expect(done.steps[1]!.log[0]).toMatch(/^sha512 matches; qemu-img: raw, virtual size 1048576 bytes$/);
    expect(done).toMatchObject({ bytesDone: 1048576, bytesTotal: 1048576, image: { name: "raw-one", format: "raw" } });
    expect(existsSync(join(repoDir(), "raw-one.raw"))).toBe(true);
  });

  it("a wrong checksum fails at Verify and leaves nothing; a cancel fails the fetch as cancelled", async () => {
    const src = raw();
    const bad = await reject(repo().importJob(importParams(src, "0".repeat(128)), ctx().ctx as never));
    expect(bad.message).toMatch(/^Verify failed: sha512 of the image is /);
    expect(readdirSync(repoDir())).toEqual([]);
    const abort = new AbortController();
    abort.abort();
    const cancelled = await reject(repo().importJob(importParams(src, sha512(src)), ctx(abort).ctx as never));
    expect(cancelled.message).toBe('cancelled during "Fetch"');
    expect(readdirSync(repoDir())).toEqual([]);
  });
});
