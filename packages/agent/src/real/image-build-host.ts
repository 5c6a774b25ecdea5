/**
 * What a base-image build needs from the host, and the Debian package that brings each piece,
 * so a missing one is reported as "install X" before anything runs.
 */

export interface HostNeed {
  /** An executable looked up like every agent tool (PATH, then the sbin directories), or an absolute file. */
  what: string;
  package: string;
  why: string;
}

/** syslinux's boot sector for a DOS partition table: it starts the partition marked bootable. */
export const MBR_BIN = "/usr/lib/syslinux/mbr/mbr.bin";

export const IMAGE_BUILD_NEEDS: readonly HostNeed[] = [
  { what: "mmdebstrap", package: "mmdebstrap", why: "bootstraps the root filesystem from Debian's packages" },
  { what: "sfdisk", package: "fdisk", why: "writes the partition table" },
  { what: "mkfs.ext4", package: "e2fsprogs", why: "makes the root filesystem" },
  { what: "extlinux", package: "extlinux", why: "installs the boot loader" },
  { what: MBR_BIN, package: "syslinux-common", why: "the boot sector" },
  { what: "qemu-img", package: "qemu-utils", why: "writes the qcow2 template" },
  { what: "mount", package: "mount", why: "mounts the new filesystem for extlinux" },
  { what: "virt-builder", package: "libguestfs-tools", why: "reads the published repository (and builds each instance's volume from it)" },
];

/** libguestfs's appliance (virt-builder, virt-customize) boots the host's own kernel from /boot. */
export const APPLIANCE_KERNEL_NEED: HostNeed = { what: "/boot/vmlinuz-*", package: "linux-image-amd64", why: "libguestfs's appliance boots the host's kernel" };

export interface HostFacts {
  isRoot: boolean;
  /** Whether an executable (bare name) or a file (absolute path) is there. */
  has: (what: string) => boolean;
  bootFiles: readonly string[];
}

/** Everything the host lacks, in one message (null when nothing is missing). */
export function hostProblem(facts: HostFacts): string | null {
  if (!facts.isRoot) return "building a base image needs root (mmdebstrap --mode=root, a loop mount for the boot loader)";
  const missing = IMAGE_BUILD_NEEDS.filter((n) => !facts.has(n.what));
  if (!facts.bootFiles.some((f) => f.startsWith("vmlinuz-"))) missing.push(APPLIANCE_KERNEL_NEED);
  if (!missing.length) return null;
  const packages = [...new Set(missing.map((n) => n.package))];
  const what = missing.map((n) => `${n.what} (${n.why})`).join("; ");
  return `this host cannot build a base image, it lacks ${what}: install ${packages.join(" ")} (apt-get install --no-install-recommends ${packages.join(" ")})`;
}
