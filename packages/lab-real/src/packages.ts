import { run } from "./exec.js";

/**
 * Debian packages the lab needs (Debian 12 names). iputils-ping for `ping -M do`: busybox ping
 * cannot forbid fragmentation, so it cannot prove the underlay carries full-size VXLAN frames.
 */
export const REQUIRED_PACKAGES = [
  "openssh-server", "openvswitch-switch", "libvirt-daemon-system", "libvirt-clients", "qemu-system-x86",
  "docker.io", "busybox-static", "nfs-ganesha", "nfs-ganesha-vfs", "nfs-common", "keepalived", "ethtool",
  "iproute2", "iputils-ping", "libnfs-utils", "rpcbind", "socat", "util-linux",
  // The offline base image (agent `image build`) and each instance's volume from it (virt-builder);
  // libguestfs's appliance boots the host's kernel, which nothing else here installs.
  // DHCP for the guests Nimbus creates, on the tenant VLANs (src/dhcp.ts).
  "dnsmasq-base",
  // The swarm worker test: a worker VM's join held back at the manager (iptables in its
  // namespace), and root's SSH into the VM (openssh-client) to read its first boot and load the image.
  "iptables", "openssh-client",
  "mmdebstrap", "fdisk", "e2fsprogs", "extlinux", "syslinux-common", "qemu-utils", "libguestfs-tools", "linux-image-amd64",
] as const;

export async function missingPackages(): Promise<string[]> {
  const { stdout } = await run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\n", ...REQUIRED_PACKAGES], { check: false });
  const installed = new Set(
    stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0]),
  );
  return REQUIRED_PACKAGES.filter((p) => !installed.has(p));
}

/** Installs what is missing; installing starts no service on this machine kind (no init). */
export async function installPackages(log: (line: string) => void): Promise<string[]> {
  const missing = await missingPackages();
  if (missing.length === 0) return [];
  log(`installing ${missing.join(" ")}`);
  const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND: "noninteractive", LANG: "C.UTF-8" };
  await run("apt-get", ["update", "-q"], { env, timeoutMs: 300_000 });
  await run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env, timeoutMs: 600_000 });
  return missing;
}
