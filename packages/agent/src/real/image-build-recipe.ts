import { createHash } from "node:crypto";
import { z } from "zod";
import { ImageName } from "@nimbus/domain";

/**
 * What goes into the Debian base image Nimbus builds offline from Debian's packages (the path
 * measured in shared/notes/guest-image.md), as plain data. Everything here is pure: the steps
 * in image-build.ts turn it into tool runs and files.
 */

/**
 * Bumped whenever what a build does changes in a way the recipe's own fields do not show
 * (a tool option, the order of steps): a new version means a new cache key, so a stale image is
 * never reused.
 */
export const IMAGE_RECIPE_VERSION = 1;

/** Debian package names (policy: lower case, digits, '+', '-', '.'; never a leading '-'). */
const DebianPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]{1,63}$/, { error: "a Debian package name is lower-case letters, digits, '+', '-' and '.'" });
const Suite = z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, { error: "a suite is a Debian code name such as bookworm" });
const AptSource = z
  .string()
  .max(512)
  .regex(/^deb https?:\/\/[A-Za-z0-9.:/_~-]+ [a-z][a-z0-9-]{1,40}( [a-z][a-z0-9-]{1,40})+$/, {
    error: "an apt source is one line 'deb http://MIRROR/debian SUITE COMPONENT…'",
  });

export const BaseImageRecipe = z.object({
  name: ImageName,
  suite: Suite,
  /** One-line apt sources mmdebstrap fetches from (the Debian archive, as this host's apt reaches it). */
  sources: z.array(AptSource).min(1).max(8),
  packages: z.array(DebianPackage).min(1).max(200),
  /** Size of the template's disk; virt-builder grows it to each instance's size. */
  diskGiB: z.number().int().min(1).max(64),
  /** libosinfo id for the catalog and the index (this host's libosinfo knows no debian12: the guest-image notes). */
  os: z.string().regex(/^[a-z][a-z0-9.-]{0,31}$/),
});
export type BaseImageRecipe = z.infer<typeof BaseImageRecipe>;

/** Debian 12 sources on the archive the host's apt uses (deb.debian.org here): release, updates, security. */
export function debianSources(suite: string, mirror = "http://deb.debian.org/debian"): string[] {
  const base = mirror.replace(/\/+$/, "");
  const security = base.endsWith("/debian") ? `${base}-security` : null;
  return [`deb ${base} ${suite} main`, `deb ${base} ${suite}-updates main`, ...(security ? [`deb ${security} ${suite}-security main`] : [])];
}

/**
 * The packages the notes booted with: a kernel and init, SSH, the NFS client, Docker, and the
 * few tools a first-boot command expects. e2fsprogs for the boot-time fsck of the root
 * filesystem (not in minbase). apparmor: Debian's kernel enables AppArmor, and docker then
 * refuses to start any container without `apparmor_parser` to load its docker-default profile
 * ("AppArmor enabled on system but the docker-default profile could not be loaded"; docker.io
 * only recommends it, and minbase installs no recommends). Found by the real lab's swarm worker.
 */
export const BASE_PACKAGES = [
  "linux-image-amd64", "systemd-sysv", "udev", "dbus", "kmod", "e2fsprogs",
  "openssh-server", "nfs-common", "docker.io", "apparmor",
  "iproute2", "iputils-ping", "ca-certificates", "procps", "zstd",
] as const;

export const DEFAULT_BASE_IMAGE: BaseImageRecipe = {
  name: "debian-12-docker",
  suite: "bookworm",
  sources: debianSources("bookworm"),
  packages: [...BASE_PACKAGES],
  diskGiB: 2,
  os: "debian11",
};

/** The filesystem label the kernel command line and fstab find the root by. */
export const ROOT_LABEL = "rootfs";
/** The one partition starts at 1 MiB (sector 2048), as fdisk would put it. */
export const PARTITION_OFFSET_BYTES = 1024 * 1024;
/** virt-resize grows this partition to the instance's disk size (index `expand=`). */
export const ROOT_PARTITION = "/dev/sda1";
export const KERNEL_CMDLINE = `root=LABEL=${ROOT_LABEL} ro console=tty0 console=ttyS0,115200n8`;

/** One change to the bootstrapped root filesystem. Paths are absolute inside the guest. */
export type RootfsChange =
  | { kind: "file"; path: string; content: string; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "remove-glob"; dir: string; pattern: RegExp; why: string };

const unit = (...lines: string[]) => `${lines.join("\n")}\n`;
const LIB_UNITS = "/lib/systemd/system";

/**
 * The guest's configuration, written after mmdebstrap (no shell hook). Units are enabled by the
 * symlinks `systemctl enable` would make, so nothing runs inside the new root.
 */
export function rootfsChanges(): RootfsChange[] {
  return [
    { kind: "file", path: "/etc/hostname", content: "debian\n" },
    { kind: "file", path: "/etc/hosts", content: unit("127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback") },
    { kind: "file", path: "/etc/fstab", content: unit(`LABEL=${ROOT_LABEL}\t/\text4\terrors=remount-ro\t0\t1`) },
    // Empty: guests of one template must not share an id (networkd's DHCP client id comes from
    // it: they would share a lease). virt-builder writes a fresh one per guest; a copy made
    // otherwise gets its own at first boot. Not "uninitialized", which would start
    // systemd-firstboot's prompts on the console.
    { kind: "file", path: "/etc/machine-id", content: "" },
    // dbus's postinst wrote an id here, and systemd takes it when /etc/machine-id is empty.
    { kind: "symlink", path: "/var/lib/dbus/machine-id", target: "/etc/machine-id" },
    // The build host's resolver is no business of the guest's.
    { kind: "file", path: "/etc/resolv.conf", content: "" },
    {
      kind: "file",
      path: "/etc/systemd/network/80-nimbus-dhcp.network",
      content: unit("# Nimbus base image: every wired NIC asks DHCP for its address.", "[Match]", "Name=en* eth*", "", "[Network]", "DHCP=yes"),
    },
    { kind: "symlink", path: "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service", target: `${LIB_UNITS}/systemd-networkd.service` },
    { kind: "symlink", path: "/etc/systemd/system/sockets.target.wants/systemd-networkd.socket", target: `${LIB_UNITS}/systemd-networkd.socket` },
    // network-online.target means "DHCP answered" only when wait-online is enabled.
    { kind: "symlink", path: "/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service", target: `${LIB_UNITS}/systemd-networkd-wait-online.service` },
    { kind: "symlink", path: "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", target: `${LIB_UNITS}/serial-getty@.service` },
    // A template must not carry host keys: every guest of it would share them.
    { kind: "remove-glob", dir: "/etc/ssh", pattern: /^ssh_host_.*_key(\.pub)?$/, why: "SSH host keys are made at each guest's first boot" },
    {
      kind: "file",
      path: "/etc/systemd/system/nimbus-ssh-host-keys.service",
      content: unit(
        "[Unit]",
        "Description=Make this machine's SSH host keys (the Nimbus base image ships none)",
        "Before=ssh.service",
        "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key",
        "",
        "[Service]",
        "Type=oneshot",
        "ExecStart=/usr/bin/ssh-keygen -A",
        "",
        "[Install]",
        "WantedBy=ssh.service",
      ),
    },
    { kind: "symlink", path: "/etc/systemd/system/ssh.service.wants/nimbus-ssh-host-keys.service", target: "/etc/systemd/system/nimbus-ssh-host-keys.service" },
    {
      // libguestfs's first-boot service waits only for network.target, so first-boot commands
      // ran before DHCP had answered (guest-image notes); a docker command needs dockerd up.
      kind: "file",
      path: "/etc/systemd/system/guestfs-firstboot.service.d/nimbus-network-online.conf",
      content: unit("[Unit]", "Wants=network-online.target", "After=network-online.target docker.service"),
    },
  ];
}

/**
 * extlinux's configuration for the one kernel the build installed. Named by version, not the
 * /vmlinuz link: extlinux reads the file itself from the filesystem.
 */
export function extlinuxConfig(kernelVersion: string): string {
  if (!/^[0-9][A-Za-z0-9.+~-]{0,63}$/.test(kernelVersion)) throw new Error(`kernel version ${JSON.stringify(kernelVersion.slice(0, 70))} is not a plain version`);
  return unit(
    "DEFAULT debian",
    "PROMPT 0",
    "TIMEOUT 0",
    "LABEL debian",
    `  LINUX /boot/vmlinuz-${kernelVersion}`,
    `  INITRD /boot/initrd.img-${kernelVersion}`,
    `  APPEND ${KERNEL_CMDLINE}`,
  );
}

/** The one kernel version in /boot (file names `vmlinuz-VERSION`); anything but exactly one is an error. */
export function kernelVersionOf(bootFiles: readonly string[]): string {
  const versions = bootFiles.flatMap((f) => /^vmlinuz-(.+)$/.exec(f)?.slice(1) ?? []);
  if (versions.length !== 1) throw new Error(`the new root's /boot holds ${versions.length === 0 ? "no kernel" : `${versions.length} kernels (${versions.join(", ")})`}; the image needs exactly one`);
  const version = versions[0]!;
  if (!bootFiles.includes(`initrd.img-${version}`)) throw new Error(`the new root's /boot has vmlinuz-${version} but no initrd.img-${version}`);
  return version;
}

/**
 * What a built image is cached under: the recipe (suite, packages in any order, disk size, the
 * files the build writes, the kernel command line) and IMAGE_RECIPE_VERSION. The mirror is left
 * out: any mirror of the archive serves the same packages.
 */
export function imageCacheKey(recipe: BaseImageRecipe): string {
  const material = {
    version: IMAGE_RECIPE_VERSION,
    name: recipe.name,
    suite: recipe.suite,
    packages: [...new Set(recipe.packages)].sort(),
    diskGiB: recipe.diskGiB,
    os: recipe.os,
    cmdline: KERNEL_CMDLINE,
    changes: rootfsChanges().map((c) => (c.kind === "remove-glob" ? { ...c, pattern: c.pattern.source } : c)),
  };
  return createHash("sha256").update(JSON.stringify(material)).digest("hex");
}

/** The cache entry's directory name: readable, and short enough for a path. */
export const cacheEntryName = (recipe: BaseImageRecipe) => `${recipe.name}-${imageCacheKey(recipe).slice(0, 16)}`;
