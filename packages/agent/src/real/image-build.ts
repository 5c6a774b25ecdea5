import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { constants, copyFile, link, mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentErrorCode, virtBuilderEnv, virtBuilderIndex, type ImageEntry } from "@nimbus/domain";
import { AgentError, quote } from "../errors.js";
import { duArgs, extlinuxArgs, GIB, mkfsArgs, mmdebstrapArgs, mountArgs, qemuImgConvertArgs, rootFitProblem, SFDISK_SCRIPT, sfdiskArgs, umountArgs, virtBuilderListArgs } from "./image-build-argv.js";
import { BUILD_RECORD, CachedImage, cacheEntryDir, lockBuild, readCachedImage } from "./image-build-cache.js";
import { applyRootfsChanges, inRoot, removeWorkDir } from "./image-build-fs.js";
import { hostProblem, MBR_BIN } from "./image-build-host.js";
import { extlinuxConfig, IMAGE_RECIPE_VERSION, imageCacheKey, kernelVersionOf, ROOT_PARTITION, rootfsChanges, type BaseImageRecipe } from "./image-build-recipe.js";
import type { Log } from "./log.js";
import { Tool } from "./tool.js";
import { isExecutableFile, SBIN_DIRS } from "./which.js";

/**
 * Builds the Debian base image offline from Debian's packages and publishes it as a local
 * virt-builder template repository (an `index` and the qcow2 it names), so the seed's
 * `virt-builder NAME --source file:///…/index --no-check-signature --no-network …` works
 * against it unchanged. Built once per recipe and cached; each step is one function running
 * tools with argument arrays, a timeout and an output cap.
 */

export interface ImageBuildTools {
  mmdebstrap: Tool;
  sfdisk: Tool;
  mkfs: Tool;
  mount: Tool;
  umount: Tool;
  extlinux: Tool;
  qemuImg: Tool;
  virtBuilder: Tool;
  du: Tool;
}

const tool = (name: string, path = name) => new Tool(name, { path, args: [], env: {} });
export const defaultImageBuildTools = (): ImageBuildTools => ({
  mmdebstrap: tool("mmdebstrap"),
  sfdisk: tool("sfdisk"),
  mkfs: tool("mkfs.ext4"),
  mount: tool("mount"),
  umount: tool("umount"),
  extlinux: tool("extlinux"),
  qemuImg: tool("qemu-img"),
  virtBuilder: tool("virt-builder"),
  du: tool("du"),
});

export interface ImageBuildOptions {
  recipe: BaseImageRecipe;
  /** Where built images are kept between builds (outside any checkout: a build is about 3 GB while it runs). */
  cacheDir: string;
  /** The repository directory: `index` and the template file are written here. */
  outDir: string;
  /** Build even when the cache has this recipe's image (a newer package set from the archive). */
  rebuild?: boolean;
  log: Log;
  signal?: AbortSignal;
  tools?: ImageBuildTools;
  /** Skips the host check (tests with stand-in tools). */
  hostChecked?: boolean;
}

export interface ImageBuildResult {
  /** True when the cached image was reused and nothing was built. */
  cached: boolean;
  cacheDir: string;
  index: string;
  /** The catalog entry for this image, but for the datastore (the caller knows where outDir is). */
  image: Omit<ImageEntry, "datastore">;
  seconds: number;
}

const MINUTE = 60_000;
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

export async function buildBaseImage(opts: ImageBuildOptions): Promise<ImageBuildResult> {
  const started = Date.now();
  const tools = opts.tools ?? defaultImageBuildTools();
  const { recipe, log } = opts;
  if (!opts.hostChecked) await checkHost();
  await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });

  let hit = opts.rebuild ? null : await readCachedImage(opts.cacheDir, recipe);
  if (!hit) {
    const unlock = await lockBuild(opts.cacheDir, recipe);
    try {
      // Another build may have finished while this one waited for nothing: look again under the lock.
      hit = opts.rebuild ? null : await readCachedImage(opts.cacheDir, recipe);
      if (!hit) {
        await buildIntoCache(opts, tools);
        hit = await readCachedImage(opts.cacheDir, recipe);
        if (!hit) throw new AgentError(AgentErrorCode.internal, `image ${recipe.name} was built but its cache entry ${cacheEntryDir(opts.cacheDir, recipe)} does not read back`);
        log("info", `image ${recipe.name}: built and cached in ${hit.dir} (${hit.image.buildSeconds} s)`);
        return await publish(opts, tools, hit, false, started);
      }
    } finally {
      await unlock();
    }
  }
  log("info", `image ${recipe.name}: reusing the cached build from ${hit.image.builtAt} in ${hit.dir} (cache key ${hit.image.key.slice(0, 16)}); nothing was rebuilt`);
  return publish(opts, tools, hit, true, started);
}

async function checkHost(): Promise<void> {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SBIN_DIRS];
  // mbr.bin is a plain file; tools are executables found as every agent tool is (PATH, then sbin).
  const has = (what: string) => (what.startsWith("/") ? existsSync(what) : dirs.some((d) => isExecutableFile(join(d, what))));
  const problem = hostProblem({ isRoot: process.getuid?.() === 0, has, bootFiles: await readdir("/boot").catch(() => []) });
  if (problem) throw new AgentError(AgentErrorCode.unsupported, problem);
}

/** Every step of a fresh build, in a work directory next to the cache, renamed into place at the end. */
async function buildIntoCache(opts: ImageBuildOptions, tools: ImageBuildTools): Promise<void> {
  const { recipe, log, signal } = opts;
  const started = Date.now();
  const entry = cacheEntryDir(opts.cacheDir, recipe);
  const work = `${entry}.work`;
  const root = join(work, "root");
  const raw = join(work, "disk.raw");
  const mnt = join(work, "mnt");
  const out = join(work, "entry");
  const file = `${recipe.name}.qcow2`;
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    log("info", `image ${recipe.name}: ${name}…`);
    const r = await fn();
    log("info", `image ${recipe.name}: ${name} done in ${seconds(t)} s`);
    return r;
  };

  await removeWorkDir(work, tools.umount);
  await mkdir(out, { recursive: true });
  try {
    await step("bootstrap from Debian's packages (mmdebstrap)", () => bootstrap(tools, recipe, root, signal));
    await step("configure the guest", () => configureRoot(root));
    await step("make the disk", () => makeDisk(tools, recipe, root, raw, signal));
    await step("install the boot loader", () => installBootLoader(tools, raw, mnt, signal));
    await step("write the qcow2 template", () => tools.qemuImg.run(qemuImgConvertArgs(raw, join(out, file)), { timeoutMs: 20 * MINUTE, signal }));
    const checksum = await step("checksum", () => sha512(join(out, file)));
    const record: CachedImage = {
      key: imageCacheKey(recipe),
      name: recipe.name,
      os: recipe.os,
      suite: recipe.suite,
      packages: [...recipe.packages],
      recipeVersion: IMAGE_RECIPE_VERSION,
      file,
      format: "qcow2",
      virtualSizeBytes: recipe.diskGiB * GIB,
      fileBytes: (await stat(join(out, file))).size,
      checksum: { algorithm: "sha512", value: checksum },
      builtAt: new Date().toISOString(),
      buildSeconds: seconds(started),
    };
    await writeFile(join(out, BUILD_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    await rm(entry, { recursive: true, force: true });
    await rename(out, entry);
  } finally {
    await removeWorkDir(work, tools.umount).catch((e) => log("warn", `image ${recipe.name}: ${(e as Error).message}`));
  }
}

async function bootstrap(tools: ImageBuildTools, recipe: BaseImageRecipe, root: string, signal?: AbortSignal): Promise<void> {
  // mmdebstrap narrates every package: 64 MiB is far above what a build prints.
  await tools.mmdebstrap.run(mmdebstrapArgs(recipe, root), { timeoutMs: 40 * MINUTE, maxBytes: 64 * 1024 * 1024, signal, env: { DEBIAN_FRONTEND: "noninteractive" } });
}

async function configureRoot(root: string): Promise<void> {
  await applyRootfsChanges(root, rootfsChanges());
  const version = kernelVersionOf(await readdir(inRoot(root, "/boot")));
  await mkdir(inRoot(root, "/boot/extlinux"), { recursive: true });
  await writeFile(inRoot(root, "/boot/extlinux/extlinux.conf"), extlinuxConfig(version));
}

/** A sparse raw disk, one partition, the root filesystem written into it from the directory. */
async function makeDisk(tools: ImageBuildTools, recipe: BaseImageRecipe, root: string, raw: string, signal?: AbortSignal): Promise<void> {
  const used = Number((await tools.du.run(duArgs(root), { timeoutMs: 5 * MINUTE, signal })).trim().split(/\s/)[0]);
  if (!Number.isSafeInteger(used)) throw new AgentError(AgentErrorCode.unparseable, `du: output could not be parsed for ${root}`);
  const tooBig = rootFitProblem(used, recipe.diskGiB);
  if (tooBig) throw new AgentError(AgentErrorCode.conflict, `image ${recipe.name}: ${tooBig}`);
  const fh = await open(raw, "w");
  await fh.truncate(recipe.diskGiB * GIB);
  await fh.close();
  await tools.sfdisk.run(sfdiskArgs(raw), { stdin: SFDISK_SCRIPT, timeoutMs: MINUTE, signal });
  await tools.mkfs.run(mkfsArgs(root, raw, recipe.diskGiB), { timeoutMs: 15 * MINUTE, signal });
}

/** syslinux's MBR in the first 440 bytes (the partition table after it stays), extlinux in /boot/extlinux. */
async function installBootLoader(tools: ImageBuildTools, raw: string, mnt: string, signal?: AbortSignal): Promise<void> {
  const mbr = await readFile(MBR_BIN);
  if (mbr.length > 440) throw new AgentError(AgentErrorCode.internal, `${MBR_BIN} is ${mbr.length} bytes, more than a boot sector's 440`);
  const fh = await open(raw, "r+");
  await fh.write(mbr, 0, mbr.length, 0);
  await fh.close();
  await mkdir(mnt, { recursive: true });
  await tools.mount.run(mountArgs(raw, mnt), { timeoutMs: MINUTE, signal });
  try {
    await tools.extlinux.run(extlinuxArgs(mnt), { timeoutMs: MINUTE, signal });
  } finally {
    await tools.umount.run(umountArgs(mnt), { timeoutMs: MINUTE });
  }
}

const sha512 = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash("sha512");
    createReadStream(path)
      .on("data", (chunk) => h.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });

/**
 * The repository: the template file (a hard link to the cached one when they share a
 * filesystem, else a copy) and an index listing it, each written beside its place and renamed
 * over it, then read back through virt-builder itself.
 */
async function publish(opts: ImageBuildOptions, tools: ImageBuildTools, hit: { dir: string; image: CachedImage }, cached: boolean, started: number): Promise<ImageBuildResult> {
  const { image } = hit;
  await mkdir(opts.outDir, { recursive: true });
  const target = join(opts.outDir, image.file);
  const tmp = join(opts.outDir, `.${image.file}.${process.pid}.tmp`);
  await rm(tmp, { force: true });
  await link(join(hit.dir, image.file), tmp).catch(() => copyFile(join(hit.dir, image.file), tmp, constants.COPYFILE_FICLONE));
  await rename(tmp, target);

  const entry = {
    name: image.name,
    os: image.os,
    format: image.format,
    virtualSizeBytes: image.virtualSizeBytes,
    checksum: image.checksum,
    source: { kind: "built" as const, recipe: image.name },
    file: image.file,
    createdAt: image.builtAt,
  };
  const index = join(opts.outDir, "index");
  await writeFile(`${index}.${process.pid}.tmp`, virtBuilderIndex([{ image: entry, expand: ROOT_PARTITION }]));
  await rename(`${index}.${process.pid}.tmp`, index);
  await verifyRepository(opts, tools, index, image.name);
  opts.log("info", `image ${image.name}: published ${target} and ${index}`);
  return { cached, cacheDir: hit.dir, index, image: entry, seconds: seconds(started) };
}

/** `virt-builder --list` over the new index, with no other repository configured: the template must be listed. */
async function verifyRepository(opts: ImageBuildOptions, tools: ImageBuildTools, index: string, name: string): Promise<void> {
  // Fresh each time: virt-builder keeps what it read in XDG_CACHE_HOME.
  const empty = await mkdtemp(join(opts.cacheDir, ".virt-builder-"));
  const out = await tools.virtBuilder
    .run(virtBuilderListArgs(index), { env: virtBuilderEnv(empty, true), timeoutMs: 2 * MINUTE, signal: opts.signal })
    .finally(() => rm(empty, { recursive: true, force: true }));
  let listed: unknown;
  try {
    listed = (JSON.parse(out) as { templates?: { "os-version"?: unknown }[] }).templates?.map((t) => t["os-version"]);
  } catch {
    listed = undefined;
  }
  if (!Array.isArray(listed) || !listed.includes(name)) {
    throw new AgentError(AgentErrorCode.internal, `virt-builder does not list ${name} from ${index}: it answered ${quote(out, 200)}`);
  }
}
