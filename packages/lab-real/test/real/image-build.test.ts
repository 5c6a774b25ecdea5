import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { virtBuilderArgs, virtBuilderEnv } from "@nimbus/domain";
import type { ImageBuildResult } from "@nimbus/agent/real";
import { run, TOOL_ENV } from "../../src/exec.js";
import { buildBaseImageWhenFree } from "./base-image.js";

/**
 * The offline base image on real tools (root; the real lab need not be up): the agent builds
 * Debian 12 from Debian's packages into a cache outside the clone (NIMBUS_IMAGE_CACHE, default
 * /var/cache/nimbus-images: a cold build takes minutes, later runs reuse it), publishes it as a
 * virt-builder repository, and the seed's own virt-builder command line builds a guest volume
 * from that repository with --no-network. Booting the guest is the create path's test.
 */

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO68zLD6gVSVNRqZbgngE9GugrQm2BxhZCpoOzihaBR3 test@nimbus";
const FIRST_BOOT = "echo nimbus-first-boot-ran > /root/first-boot-ran";
const MINUTE = 60_000;

let work: string;
let repo: string;
let empty: string;
const lines: string[] = [];
const log = (level: string, message: string) => {
  lines.push(message);
  process.stderr.write(`[image ${level}] ${message}\n`);
};
/** libguestfs tools: TCG (the nested KVM here cannot run a stock kernel) and no repository but ours. */
const guestfsEnv = () => ({ ...TOOL_ENV, ...virtBuilderEnv(empty, true), TMPDIR: work });

beforeAll(async () => {
  // The real suite runs as root; say so instead of failing somewhere inside mmdebstrap.
  expect(process.getuid?.(), "the image build needs root: run the real suite as root").toBe(0);
  await mkdir("/var/tmp", { recursive: true });
  work = await mkdtemp("/var/tmp/nimbus-image-test-");
  repo = join(work, "repo");
  empty = join(work, "empty");
  await mkdir(empty);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const qemuImgInfo = async (path: string) => JSON.parse((await run("qemu-img", ["info", "--output=json", path])).stdout) as { format: string; "virtual-size": number };

describe("offline Debian base image (real mmdebstrap, extlinux, virt-builder)", () => {
  let built: ImageBuildResult;

  it("builds the image (or reuses the cached one) and publishes it as a virt-builder repository; a second build reuses it", async () => {
    const t0 = Date.now();
    built = await buildBaseImageWhenFree(repo, log);
    const first = (Date.now() - t0) / 1000;
    expect(built.index).toBe(join(repo, "index"));
    const index = await readFile(built.index, "utf8");
    expect(index).toMatch(/^\[debian-12-docker\]\nname=debian-12-docker\nosinfo=debian11\narch=x86_64\nfile=debian-12-docker\.qcow2\nchecksum\[sha512\]=[0-9a-f]{128}\nformat=qcow2\nsize=2147483648\nexpand=\/dev\/sda1\n$/);
    const info = await qemuImgInfo(join(repo, "debian-12-docker.qcow2"));
    expect(info).toMatchObject({ format: "qcow2", "virtual-size": 2 * 1024 ** 3 });

    const t1 = Date.now();
    lines.length = 0;
    const again = await buildBaseImageWhenFree(repo, log);
    const second = (Date.now() - t1) / 1000;
    expect(again.cached).toBe(true);
    expect(lines.join("\n")).toMatch(/reusing the cached build from .* nothing was rebuilt/);
    expect(again.image.checksum).toEqual(built.image.checksum);
    expect(second).toBeLessThan(60);
    process.stderr.write(`[image] first build ${first} s (${built.cached ? "cached" : "cold"}), second ${second} s (cached)\n`);
  }, 45 * MINUTE);

  it("the seed's virt-builder command builds a guest volume from it offline: host name, SSH key, first-boot command", async () => {
    const volume = join(work, "imgtest1.qcow2");
    const args = virtBuilderArgs({
      name: "imgtest1",
      image: { name: built.image.name, os: built.image.os, repositoryIndex: built.index },
      volumePath: volume,
      diskGiB: 3,
      sshKeys: [KEY],
      firstBoot: [FIRST_BOOT],
    });
    expect(args).toEqual(expect.arrayContaining([`--source=file://${built.index}`, "--no-network", "--no-check-signature"]));
    const t0 = Date.now();
    await run("virt-builder", args, { env: guestfsEnv(), timeoutMs: 25 * MINUTE });
    process.stderr.write(`[image] virt-builder imgtest1 (3 GiB) ${(Date.now() - t0) / 1000} s\n`);
    expect(await qemuImgInfo(volume)).toMatchObject({ format: "qcow2", "virtual-size": 3 * 1024 ** 3 });

    // One appliance for every look inside (each libguestfs launch is ~30 s under TCG).
    const t1 = Date.now();
    const mark = (name: string) => ["echo", `==${name}==`, ":"];
    const { stdout } = await run(
      "guestfish",
      [
        "--ro", "--format=qcow2", "-a", volume, "-i",
        ...mark("hostname"), "cat", "/etc/hostname", ":",
        ...mark("keys"), "cat", "/root/.ssh/authorized_keys", ":",
        ...mark("ssh"), "ls", "/etc/ssh", ":",
        ...mark("firstboot"), "find", "/usr/lib/virt-sysprep", ":",
        ...mark("units"), "find", "/etc/systemd/system", ":",
        ...mark("dropin"), "cat", "/etc/systemd/system/guestfs-firstboot.service.d/nimbus-network-online.conf", ":",
        ...mark("extlinux"), "cat", "/boot/extlinux/extlinux.conf", ":",
        ...mark("network"), "cat", "/etc/systemd/network/80-nimbus-dhcp.network", ":",
        ...mark("getty"), "readlink", "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", ":",
        ...mark("machine-id"), "cat", "/etc/machine-id", ":",
        ...mark("df"), "statvfs", "/",
      ],
      { env: guestfsEnv(), timeoutMs: 10 * MINUTE },
    );
    process.stderr.write(`[image] guestfish checks ${(Date.now() - t1) / 1000} s\n`);
    // guestfish ends each command's output with a line break of its own: compare without it.
    const sections: Record<string, string> = Object.fromEntries(
      stdout
        .split(/^==([a-z-]+)==\n/m)
        .slice(1)
        .reduce<[string, string][]>((acc, part, i, all) => (i % 2 === 0 ? [...acc, [part, (all[i + 1] ?? "").trimEnd()]] : acc), []),
    );
    expect(sections.hostname).toBe("imgtest1");
    expect(sections.keys).toContain(KEY);
    // No host key baked in: each guest makes its own at first boot.
    expect(sections.ssh).not.toMatch(/ssh_host_/);
    expect(sections.ssh).toContain("sshd_config");
    // virt-builder installed its first-boot service, enabled, and our command as a script.
    expect(sections.firstboot).toMatch(/^\/scripts\/\d+-\d+-echo-nimbus-first-boot-ran/m);
    expect(sections.units).toMatch(/guestfs-firstboot\.service$/m);
    expect(sections.dropin).toBe("[Unit]\nWants=network-online.target\nAfter=network-online.target docker.service");
    expect(sections.extlinux).toMatch(/APPEND root=LABEL=rootfs ro console=tty0 console=ttyS0,115200n8/);
    expect(sections.network).toContain("Name=en* eth*");
    expect(sections.getty).toBe("/lib/systemd/system/serial-getty@.service");
    // The template ships an empty one; virt-builder gives each guest its own.
    expect(sections["machine-id"]).toMatch(/^[0-9a-f]{32}$/);
    // virt-resize grew the root filesystem (expand=/dev/sda1) to the 3 GiB disk.
    const blocks = Number(/^\s*blocks: (\d+)\s*$/m.exec(sections.df ?? "")?.[1]);
    const bsize = Number(/^\s*bsize: (\d+)\s*$/m.exec(sections.df ?? "")?.[1]);
    expect(blocks * bsize, sections.df).toBeGreaterThan(2.5 * 1024 ** 3);
    expect((await stat(volume)).size).toBeGreaterThan(0);
  }, 40 * MINUTE);
});
