import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentErrorCode, virtBuilderIndex } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { BUILD_RECORD, cacheEntryDir, lockBuild, type CachedImage } from "../../src/real/image-build-cache.js";
import { applyRootfsChanges } from "../../src/real/image-build-fs.js";
import { DEFAULT_BASE_IMAGE, IMAGE_RECIPE_VERSION, imageCacheKey, rootfsChanges } from "../../src/real/image-build-recipe.js";
import { buildBaseImage, type ImageBuildTools } from "../../src/real/image-build.js";
import { Tool } from "../../src/real/tool.js";

/** A tool that records it was run and fails, or answers with a fixed stdout. */
const standIn = (name: string, stdout?: string) =>
  new Tool(name, {
    path: process.execPath,
    args: ["-e", stdout === undefined ? `process.stderr.write("E: ${name} stand-in refuses"); process.exit(1)` : `process.stdout.write(${JSON.stringify(stdout)})`, "--"],
    env: {},
  });
const LISTED = JSON.stringify({ version: 1, sources: [], templates: [{ "os-version": "debian-12-docker", "full-name": "debian-12-docker", arch: "x86_64" }] });
const tools = (over: Partial<ImageBuildTools> = {}): ImageBuildTools => ({
  mmdebstrap: standIn("mmdebstrap"),
  sfdisk: standIn("sfdisk"),
  mkfs: standIn("mkfs.ext4"),
  mount: standIn("mount"),
  umount: standIn("umount"),
  extlinux: standIn("extlinux"),
  qemuImg: standIn("qemu-img"),
  virtBuilder: standIn("virt-builder", LISTED),
  du: standIn("du"),
  ...over,
});

let dir: string;
let lines: string[];
const log = (_level: string, message: string) => void lines.push(message);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "nimbus-image-cache-"));
  lines = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const IMAGE_BYTES = Buffer.from("QFI\xfb a stand-in template");
async function seedCache(over: Partial<CachedImage> = {}) {
  const entry = cacheEntryDir(join(dir, "cache"), DEFAULT_BASE_IMAGE);
  await mkdir(entry, { recursive: true });
  await writeFile(join(entry, "debian-12-docker.qcow2"), IMAGE_BYTES);
  const record: CachedImage = {
    key: imageCacheKey(DEFAULT_BASE_IMAGE),
    name: "debian-12-docker",
    os: "debian11",
    suite: "bookworm",
    packages: [...DEFAULT_BASE_IMAGE.packages],
    recipeVersion: IMAGE_RECIPE_VERSION,
    file: "debian-12-docker.qcow2",
    format: "qcow2",
    virtualSizeBytes: 2 * 1024 ** 3,
    fileBytes: IMAGE_BYTES.length,
    checksum: { algorithm: "sha512", value: createHash("sha512").update(IMAGE_BYTES).digest("hex") },
    builtAt: "2026-12-07T06:00:00.000Z",
    buildSeconds: 140,
    ...over,
  };
  await writeFile(join(entry, BUILD_RECORD), JSON.stringify(record));
  return record;
}
const build = (t = tools(), rebuild = false) =>
  buildBaseImage({ recipe: DEFAULT_BASE_IMAGE, cacheDir: join(dir, "cache"), outDir: join(dir, "repo"), log, tools: t, hostChecked: true, rebuild });

describe("base image cache", () => {
  it("reuses a cached build without running any build tool, says so, and publishes it as a virt-builder repository", async () => {
    const record = await seedCache();
    const result = await build();
    expect(result.cached).toBe(true);
    expect(lines.some((l) => /reusing the cached build from 2026-12-07T06:00:00.000Z .*nothing was rebuilt/.test(l))).toBe(true);
    expect(await readFile(join(dir, "repo", "debian-12-docker.qcow2"))).toEqual(IMAGE_BYTES);
    const index = await readFile(join(dir, "repo", "index"), "utf8");
    expect(index).toBe(
      virtBuilderIndex([
        {
          image: { name: "debian-12-docker", os: "debian11", file: "debian-12-docker.qcow2", format: "qcow2", virtualSizeBytes: 2 * 1024 ** 3, checksum: record.checksum },
          expand: "/dev/sda1",
        },
      ]),
    );
    expect(index).toContain("format=qcow2\n");
    expect(result.image).toMatchObject({ name: "debian-12-docker", format: "qcow2", source: { kind: "built", recipe: "debian-12-docker" }, createdAt: record.builtAt });
  });

  it("rebuilds when the cached entry is not whole (its file is not the size recorded)", async () => {
    await seedCache({ fileBytes: IMAGE_BYTES.length + 1 });
    const e = await build().then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).message).toMatch(/^mmdebstrap .*exited with 1: E: mmdebstrap stand-in refuses/);
    // The failed build leaves no work directory and no lock behind.
    expect(existsSync(`${cacheEntryDir(join(dir, "cache"), DEFAULT_BASE_IMAGE)}.work`)).toBe(false);
    expect(existsSync(`${cacheEntryDir(join(dir, "cache"), DEFAULT_BASE_IMAGE)}.lock`)).toBe(false);
  });

  it("rebuilds on request even with a good cached image", async () => {
    await seedCache();
    await expect(build(tools(), true)).rejects.toThrow(/mmdebstrap stand-in refuses/);
  });

  it("refuses to publish a repository virt-builder does not list the image from", async () => {
    await seedCache();
    await expect(build(tools({ virtBuilder: standIn("virt-builder", JSON.stringify({ templates: [] })) }))).rejects.toThrow(/virt-builder does not list debian-12-docker from .*\/repo\/index/);
  });

  it("lets one build of a recipe run at a time, and takes over the lock of a process that is gone", async () => {
    const cache = join(dir, "cache");
    await mkdir(cache, { recursive: true });
    const lockPath = `${cacheEntryDir(cache, DEFAULT_BASE_IMAGE)}.lock`;
    await writeFile(lockPath, `${process.pid}\n`);
    const e = await lockBuild(cache, DEFAULT_BASE_IMAGE).then(() => null, (x: unknown) => x);
    expect((e as AgentError).code).toBe(AgentErrorCode.conflict);
    expect((e as AgentError).message).toMatch(`already being built on this host (process ${process.pid}`);
    await writeFile(lockPath, "2147483646\n");
    const unlock = await lockBuild(cache, DEFAULT_BASE_IMAGE);
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(process.pid));
    await unlock();
    expect(existsSync(lockPath)).toBe(false);
  });
});

describe("applyRootfsChanges", () => {
  /** The parts of a bootstrapped root the recipe links to or removes. */
  async function fakeRoot() {
    const root = join(dir, "root");
    for (const unit of ["systemd-networkd.service", "systemd-networkd.socket", "systemd-networkd-wait-online.service", "serial-getty@.service"]) {
      await mkdir(join(root, "lib/systemd/system"), { recursive: true });
      await writeFile(join(root, "lib/systemd/system", unit), "[Unit]\n");
    }
    await mkdir(join(root, "etc/ssh"), { recursive: true });
    for (const f of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key", "sshd_config"]) await writeFile(join(root, "etc/ssh", f), "x");
    await mkdir(join(root, "var/lib/dbus"), { recursive: true });
    await writeFile(join(root, "var/lib/dbus/machine-id"), "0123456789abcdef0123456789abcdef\n");
    return root;
  }

  it("writes the files, links the units, removes the host keys and dbus's machine id", async () => {
    const root = await fakeRoot();
    await applyRootfsChanges(root, rootfsChanges());
    expect(await readFile(join(root, "etc/systemd/network/80-nimbus-dhcp.network"), "utf8")).toContain("Name=en* eth*");
    expect(await readlink(join(root, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"))).toBe("/lib/systemd/system/serial-getty@.service");
    expect(await readlink(join(root, "var/lib/dbus/machine-id"))).toBe("/etc/machine-id");
    expect(await readFile(join(root, "etc/machine-id"), "utf8")).toBe("");
    expect(existsSync(join(root, "etc/ssh/ssh_host_ed25519_key"))).toBe(false);
    expect(existsSync(join(root, "etc/ssh/ssh_host_rsa_key"))).toBe(false);
    expect(existsSync(join(root, "etc/ssh/sshd_config"))).toBe(true);
  });

  it("replaces a link a package left where a file goes, instead of writing through it", async () => {
    const root = await fakeRoot();
    const outside = join(dir, "outside");
    await writeFile(outside, "keep me");
    await mkdir(join(root, "etc"), { recursive: true });
    const { symlink } = await import("node:fs/promises");
    await symlink(outside, join(root, "etc/resolv.conf"));
    await applyRootfsChanges(root, rootfsChanges());
    expect(await readFile(outside, "utf8")).toBe("keep me");
    expect((await lstat(join(root, "etc/resolv.conf"))).isFile()).toBe(true);
  });

  it("refuses to enable a unit the new root does not have (the package list changed)", async () => {
    const root = await fakeRoot();
    await rm(join(root, "lib/systemd/system/serial-getty@.service"));
    await expect(applyRootfsChanges(root, rootfsChanges())).rejects.toThrow("the new root has no /lib/systemd/system/serial-getty@.service to link /etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service to");
  });
});
