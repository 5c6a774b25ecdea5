import { PARTITION_OFFSET_BYTES, ROOT_LABEL, type BaseImageRecipe } from "./image-build-recipe.js";

/**
 * Argument arrays for the tools a base-image build runs (never a shell string). Paths are the
 * build's own (under its cache directory); recipe values are validated by BaseImageRecipe.
 */

export const GIB = 1024 ** 3;
const EXT4_BLOCK = 4096;

/**
 * mmdebstrap into a directory, as root: minbase plus the recipe's packages, fetched only from
 * the recipe's apt sources. Documentation and translations are left out (smaller image);
 * copyright files stay.
 */
export function mmdebstrapArgs(recipe: Pick<BaseImageRecipe, "suite" | "sources" | "packages">, rootDir: string): string[] {
  return [
    "--variant=minbase",
    "--mode=root",
    "--format=directory",
    `--include=${recipe.packages.join(",")}`,
    "--aptopt=Acquire::Languages \"none\"",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--",
    recipe.suite,
    rootDir,
    ...recipe.sources,
  ];
}

/** One bootable Linux partition from sector 2048 to the end (sfdisk reads this on stdin). */
export const SFDISK_SCRIPT = `label: dos\nstart=${PARTITION_OFFSET_BYTES / 512}, type=83, bootable\n`;
export const sfdiskArgs = (image: string): string[] => ["--quiet", "--no-reread", "--no-tell-kernel", image];

/** Blocks of the root filesystem: the partition, from 1 MiB to the end of the disk. */
export const rootFsBlocks = (diskGiB: number) => Math.floor((diskGiB * GIB - PARTITION_OFFSET_BYTES) / EXT4_BLOCK);

/**
 * The root filesystem made straight from the bootstrapped directory into the partition's place
 * in the image file (`-d`, `-E offset`): no loop device, no copy through a mount.
 */
export function mkfsArgs(rootDir: string, image: string, diskGiB: number): string[] {
  return ["-q", "-F", "-t", "ext4", "-L", ROOT_LABEL, "-b", String(EXT4_BLOCK), "-d", rootDir, "-E", `offset=${PARTITION_OFFSET_BYTES}`, image, String(rootFsBlocks(diskGiB))];
}

/** extlinux installs into a mounted filesystem: the partition through a loop device, for seconds. */
export const mountArgs = (image: string, mountPoint: string): string[] => ["-o", `loop,offset=${PARTITION_OFFSET_BYTES}`, "--", image, mountPoint];
export const umountArgs = (mountPoint: string): string[] => ["--", mountPoint];
export const extlinuxArgs = (mountPoint: string): string[] => ["--install", `${mountPoint}/boot/extlinux`];

/** The template as virt-builder reads it: qcow2, uncompressed (virt-builder takes any format as is; xz costs minutes). */
export const qemuImgConvertArgs = (raw: string, qcow2: string): string[] => ["convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1", raw, qcow2];

/** Reads the repository the way the seed's command line will, without downloading or booting anything. */
export const virtBuilderListArgs = (indexPath: string): string[] => [`--source=file://${indexPath}`, "--no-check-signature", "--list", "--list-format=json"];

/** Bytes of the bootstrapped tree (one filesystem: a leftover mount inside is not counted). */
export const duArgs = (dir: string): string[] => ["-s", "-x", "--block-size=1", "--", dir];

/** The root filesystem must fit the disk with room for ext4's own metadata and the first boot. */
export function rootFitProblem(rootBytes: number, diskGiB: number): string | null {
  const usable = (diskGiB * GIB - PARTITION_OFFSET_BYTES) * 0.85;
  if (rootBytes <= usable) return null;
  const needGiB = Math.ceil(rootBytes / 0.85 / GIB + 0.01);
  return `the root filesystem (${Math.round(rootBytes / 1024 ** 2)} MiB) does not fit a ${diskGiB} GiB image: use a disk of at least ${needGiB} GiB`;
}
