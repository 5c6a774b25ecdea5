import type { CreateInstanceParams } from "./params.js";

/**
 * Argument arrays for the tools a create runs on the host (never a shell string). Every value a
 * user chose is glued to its option (`--hostname=NAME`): getopt_long (virt-builder) and argparse
 * alike take what follows '=' as the value, so a value that starts with '-' cannot become an
 * option. Names go after `--`.
 */

/**
 * Environment for libguestfs tools: software emulation for their appliance (a nested KVM cannot
 * run a stock kernel, see the guest-image notes) and no user or system repository configs, so
 * only the datastore's own repository is read.
 */
export const virtBuilderEnv = (emptyDir: string, tcg: boolean): Record<string, string> => ({
  ...(tcg ? { LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" } : {}),
  VIRT_BUILDER_DIRS: emptyDir,
  XDG_CONFIG_HOME: emptyDir,
  XDG_CACHE_HOME: emptyDir,
});

type BuildSpec = Pick<CreateInstanceParams, "name" | "image" | "volumePath" | "diskGiB" | "sshKeys" | "firstBoot">;

/**
 * virt-builder from the datastore's own template repository: offline (--no-network: its
 * appliance would otherwise get user-mode networking), resized to the disk size, with the
 * guest's host name, root's SSH keys and the commands run once at first boot.
 */
export function virtBuilderArgs(spec: BuildSpec): string[] {
  return [
    `--source=file://${spec.image.repositoryIndex}`,
    "--no-check-signature",
    "--no-network",
    "--format=qcow2",
    `--size=${spec.diskGiB}G`,
    `--output=${spec.volumePath}`,
    `--hostname=${spec.name}`,
    ...spec.sshKeys.map((key) => `--ssh-inject=root:string:${key}`),
    ...spec.firstBoot.map((command) => `--firstboot-command=${command}`),
    "--",
    spec.image.name,
  ];
}

/**
 * `virsh define` of the XML the agent wrote to a private file. Not /dev/stdin: the agent runs
 * tools with Node's stdio, which are sockets on Linux, and opening /proc/self/fd/0 of a socket
 * fails with ENXIO ("Failed to open file '/dev/stdin': No such device or address", on a real host).
 */
export const virshDefineArgs = (xmlPath: string): string[] => ["define", "--validate", "--", xmlPath];
export const virshStartArgs = (name: string): string[] => ["start", "--", name];
/** Force off: the cleanup of a half-made instance does not wait for its guest. */
export const virshDestroyArgs = (name: string): string[] => ["destroy", "--", name];
export const virshUndefineArgs = (name: string): string[] => ["undefine", "--managed-save", "--snapshots-metadata", "--", name];

/**
 * Where a guest's address comes from on a bridged network: the guest agent when the image has
 * one, else the host's ARP table (libvirt's DHCP leases exist only on networks libvirt runs).
 */
export const ADDRESS_SOURCES = ["agent", "arp"] as const;
export const virshDomifaddrArgs = (name: string, source: (typeof ADDRESS_SOURCES)[number]): string[] => ["domifaddr", "--source", source, "--", name];
