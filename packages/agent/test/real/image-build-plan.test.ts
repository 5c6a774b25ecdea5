import { describe, expect, it } from "vitest";
import { extlinuxArgs, mkfsArgs, mmdebstrapArgs, mountArgs, qemuImgConvertArgs, rootFitProblem, rootFsBlocks, SFDISK_SCRIPT, virtBuilderListArgs } from "../../src/real/image-build-argv.js";
import { hostProblem, IMAGE_BUILD_NEEDS, MBR_BIN } from "../../src/real/image-build-host.js";
import { mountsUnder } from "../../src/real/image-build-fs.js";
import { BaseImageRecipe, cacheEntryName, DEFAULT_BASE_IMAGE, debianSources, extlinuxConfig, imageCacheKey, KERNEL_CMDLINE, kernelVersionOf, rootfsChanges, type RootfsChange } from "../../src/real/image-build-recipe.js";

const recipe = (over: Partial<BaseImageRecipe> = {}): BaseImageRecipe => ({ ...DEFAULT_BASE_IMAGE, ...over });
const file = (path: string) => {
  const c = rootfsChanges().find((x): x is Extract<RootfsChange, { kind: "file" }> => x.kind === "file" && x.path === path);
  if (!c) throw new Error(`no file ${path} in the plan`);
  return c.content;
};
const links = () => rootfsChanges().filter((c): c is Extract<RootfsChange, { kind: "symlink" }> => c.kind === "symlink");

describe("base image recipe", () => {
  it("takes its packages from the Debian archive on the host's mirror: release, updates and security", () => {
    expect(debianSources("bookworm")).toEqual([
      "deb http://deb.debian.org/debian bookworm main",
      "deb http://deb.debian.org/debian bookworm-updates main",
      "deb http://deb.debian.org/debian-security bookworm-security main",
    ]);
    expect(BaseImageRecipe.safeParse(DEFAULT_BASE_IMAGE).success).toBe(true);
    expect(DEFAULT_BASE_IMAGE.packages).toEqual(expect.arrayContaining(["linux-image-amd64", "openssh-server", "nfs-common", "docker.io", "systemd-sysv"]));
    // docker refuses every container on an AppArmor kernel without apparmor_parser (the real lab's swarm worker).
    expect(DEFAULT_BASE_IMAGE.packages).toContain("apparmor");
  });
  it("refuses a package, suite or source that could become an option or a second line", () => {
    expect(BaseImageRecipe.safeParse(recipe({ packages: ["-oAPT::Get::AllowUnauthenticated=1"] })).success).toBe(false);
    expect(BaseImageRecipe.safeParse(recipe({ packages: ["docker.io,evil"] })).success).toBe(false);
    expect(BaseImageRecipe.safeParse(recipe({ suite: "--variant=extract" })).success).toBe(false);
    expect(BaseImageRecipe.safeParse(recipe({ sources: ["deb http://deb.debian.org/debian bookworm main\ndeb http://evil.example/x sid main"] })).success).toBe(false);
    expect(BaseImageRecipe.safeParse(recipe({ sources: ["deb [trusted=yes] http://evil.example/x bookworm main"] })).success).toBe(false);
  });

  it("caches by suite, package set, disk size and the recipe's files, not by mirror or package order", () => {
    const key = imageCacheKey(recipe());
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(imageCacheKey(recipe({ packages: [...DEFAULT_BASE_IMAGE.packages].reverse() }))).toBe(key);
    expect(imageCacheKey(recipe({ sources: debianSources("bookworm", "http://mirror.example/debian") }))).toBe(key);
    expect(imageCacheKey(recipe({ suite: "trixie" }))).not.toBe(key);
    expect(imageCacheKey(recipe({ packages: [...DEFAULT_BASE_IMAGE.packages, "vim-tiny"] }))).not.toBe(key);
    expect(imageCacheKey(recipe({ diskGiB: 3 }))).not.toBe(key);
    expect(cacheEntryName(recipe())).toBe(`debian-12-docker-${key.slice(0, 16)}`);
  });
});

describe("the guest's configuration", () => {
  it("asks DHCP through systemd-networkd on every en* and eth* NIC, and enables networkd and wait-online", () => {
    expect(file("/etc/systemd/network/80-nimbus-dhcp.network")).toMatch(/\[Match\]\nName=en\* eth\*\n\n\[Network\]\nDHCP=yes\n/);
    expect(links().map((l) => l.path)).toEqual(
      expect.arrayContaining([
        "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
        "/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
      ]),
    );
  });
  it("has a login on the serial console: serial-getty@ttyS0 enabled and console=ttyS0 on the kernel command line", () => {
    expect(links()).toContainEqual({ kind: "symlink", path: "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", target: "/lib/systemd/system/serial-getty@.service" });
    expect(KERNEL_CMDLINE).toMatch(/(^| )console=ttyS0[, ]/);
    expect(extlinuxConfig("6.1.0-28-amd64")).toBe(
      [
        "DEFAULT debian",
        "PROMPT 0",
        "TIMEOUT 0",
        "LABEL debian",
        "  LINUX /boot/vmlinuz-6.1.0-28-amd64",
        "  INITRD /boot/initrd.img-6.1.0-28-amd64",
        "  APPEND root=LABEL=rootfs ro console=tty0 console=ttyS0,115200n8",
        "",
      ].join("\n"),
    );
  });
  it("ships no SSH host keys and makes them at first boot, before sshd", () => {
    const removal = rootfsChanges().find((c) => c.kind === "remove-glob");
    expect(removal).toMatchObject({ dir: "/etc/ssh" });
    const pattern = (removal as Extract<RootfsChange, { kind: "remove-glob" }>).pattern;
    for (const key of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key", "ssh_host_ecdsa_key.pub"]) expect(pattern.test(key)).toBe(true);
    for (const keep of ["sshd_config", "ssh_config", "moduli", "ssh_host_keys_readme"]) expect(pattern.test(keep)).toBe(false);
    const service = file("/etc/systemd/system/nimbus-ssh-host-keys.service");
    expect(service).toContain("Before=ssh.service");
    expect(service).toContain("ExecStart=/usr/bin/ssh-keygen -A");
    expect(links().map((l) => l.path)).toContain("/etc/systemd/system/ssh.service.wants/nimbus-ssh-host-keys.service");
  });
  it("holds libguestfs's first-boot commands until the network is online (and dockerd is up)", () => {
    const dropIn = file("/etc/systemd/system/guestfs-firstboot.service.d/nimbus-network-online.conf");
    expect(dropIn).toBe("[Unit]\nWants=network-online.target\nAfter=network-online.target docker.service\n");
  });
  it("leaves each guest to make its own machine id (empty, not 'uninitialized', and dbus's copy a link to it)", () => {
    expect(file("/etc/machine-id")).toBe("");
    expect(links()).toContainEqual({ kind: "symlink", path: "/var/lib/dbus/machine-id", target: "/etc/machine-id" });
    expect(file("/etc/fstab")).toBe("LABEL=rootfs\t/\text4\terrors=remount-ro\t0\t1\n");
  });
  it("boots exactly one kernel, and refuses a /boot with none, two, or no initrd", () => {
    expect(kernelVersionOf(["config-6.1.0-28-amd64", "vmlinuz-6.1.0-28-amd64", "initrd.img-6.1.0-28-amd64", "System.map-6.1.0-28-amd64"])).toBe("6.1.0-28-amd64");
    expect(() => kernelVersionOf([])).toThrow(/no kernel/);
    expect(() => kernelVersionOf(["vmlinuz-6.1.0-27-amd64", "vmlinuz-6.1.0-28-amd64"])).toThrow(/2 kernels/);
    expect(() => kernelVersionOf(["vmlinuz-6.1.0-28-amd64"])).toThrow(/no initrd.img-6.1.0-28-amd64/);
    expect(() => extlinuxConfig("6.1\n  APPEND init=/bin/sh")).toThrow(/not a plain version/);
  });
});

describe("argument arrays of the build", () => {
  it("runs mmdebstrap as root into a directory, minbase plus the recipe's packages, from the recipe's sources only", () => {
    const args = mmdebstrapArgs(recipe({ packages: ["linux-image-amd64", "docker.io"] }), "/var/cache/nimbus-images/x.work/root");
    const options = args.slice(0, args.indexOf("--"));
    expect(options.slice(0, 4)).toEqual(["--variant=minbase", "--mode=root", "--format=directory", "--include=linux-image-amd64,docker.io"]);
    // Smaller image, licences kept: every other option only trims what dpkg unpacks.
    expect(options.slice(5).every((o) => o.startsWith("--dpkgopt=path-"))).toBe(true);
    expect(options).toContain("--dpkgopt=path-include=/usr/share/doc/*/copyright");
    // Positionals after '--': suite, target, then only the recipe's sources (no other network).
    expect(args.slice(args.indexOf("--") + 1)).toEqual(["bookworm", "/var/cache/nimbus-images/x.work/root", ...debianSources("bookworm")]);
  });
  it("partitions from sector 2048 and writes ext4 at that offset, sized to the partition, without a loop device", () => {
    expect(SFDISK_SCRIPT).toBe("label: dos\nstart=2048, type=83, bootable\n");
    expect(rootFsBlocks(2)).toBe((2 * 1024 ** 3 - 1024 ** 2) / 4096);
    expect(mkfsArgs("/w/root", "/w/disk.raw", 2)).toEqual(["-q", "-F", "-t", "ext4", "-L", "rootfs", "-b", "4096", "-d", "/w/root", "-E", "offset=1048576", "/w/disk.raw", "524032"]);
  });
  it("mounts the partition at its offset for extlinux, and writes an uncompressed qcow2", () => {
    expect(mountArgs("/w/disk.raw", "/w/mnt")).toEqual(["-o", "loop,offset=1048576", "--", "/w/disk.raw", "/w/mnt"]);
    expect(extlinuxArgs("/w/mnt")).toEqual(["--install", "/w/mnt/boot/extlinux"]);
    expect(qemuImgConvertArgs("/w/disk.raw", "/w/entry/debian-12-docker.qcow2")).toEqual(["convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1", "/w/disk.raw", "/w/entry/debian-12-docker.qcow2"]);
    expect(virtBuilderListArgs("/srv/repo/index")).toEqual(["--source=file:///srv/repo/index", "--no-check-signature", "--list", "--list-format=json"]);
  });
  it("says how big a disk a root filesystem that does not fit needs", () => {
    expect(rootFitProblem(1_000 * 1024 ** 2, 2)).toBeNull();
    expect(rootFitProblem(1_900 * 1024 ** 2, 2)).toBe("the root filesystem (1900 MiB) does not fit a 2 GiB image: use a disk of at least 3 GiB");
  });
});

describe("what the host must have", () => {
  const all = (missing: string[] = []) => (what: string) => !missing.includes(what);
  it("is satisfied by root with every tool and a kernel for libguestfs", () => {
    expect(hostProblem({ isRoot: true, has: all(), bootFiles: ["vmlinuz-6.1.0-28-amd64"] })).toBeNull();
  });
  it("names each missing piece and the packages to install", () => {
    const problem = hostProblem({ isRoot: true, has: all(["mmdebstrap", "extlinux", MBR_BIN, "virt-builder"]), bootFiles: [] });
    expect(problem).toMatch(/^this host cannot build a base image, it lacks mmdebstrap \(bootstraps/);
    expect(problem).toMatch(/: install mmdebstrap extlinux syslinux-common libguestfs-tools linux-image-amd64 \(apt-get install --no-install-recommends mmdebstrap extlinux syslinux-common libguestfs-tools linux-image-amd64\)$/);
  });
  it("needs root", () => {
    expect(hostProblem({ isRoot: false, has: all(), bootFiles: ["vmlinuz-x"] })).toMatch(/needs root/);
  });
  it("names the Debian package that brings each piece", () => {
    expect(IMAGE_BUILD_NEEDS.map((n) => n.package).sort()).toEqual(["e2fsprogs", "extlinux", "fdisk", "libguestfs-tools", "mmdebstrap", "mount", "qemu-utils", "syslinux-common"]);
  });
});

describe("mountsUnder (what must be unmounted before a work directory is removed)", () => {
  const mountinfo = [
    "22 27 0:21 / /proc rw,relatime - proc proc rw",
    "90 27 0:50 / /var/cache/img/x.work/root/proc rw - proc proc rw",
    "91 90 0:51 / /var/cache/img/x.work/root/proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw",
    "92 27 0:52 / /var/cache/img/x.work/root/dev/my\\040disk rw - tmpfs tmpfs rw",
    "93 27 0:53 / /var/cache/img/x.work2/root/proc rw - proc proc rw",
  ].join("\n");
  it("lists mounts inside the directory, deepest first, with escaped spaces undone; a sibling with a longer name is not inside", () => {
    expect(mountsUnder(mountinfo, "/var/cache/img/x.work/")).toEqual([
      "/var/cache/img/x.work/root/proc/sys/fs/binfmt_misc",
      "/var/cache/img/x.work/root/dev/my disk",
      "/var/cache/img/x.work/root/proc",
    ]);
    expect(mountsUnder(mountinfo, "/var/cache/img/none")).toEqual([]);
  });
});
