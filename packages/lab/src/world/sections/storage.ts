import type { StorageSection } from "@nimbus/domain";
import type { World } from "../world.js";

/** Hypervisors report their NFS mounts; storage servers their exports, datastores and VIP. */
export function storageSection(world: World, name: string): StorageSection {
  const h = world.host(name);
  if (h.kind === "hypervisor") return { nfs: null, mounts: world.hypervisor(name).mounts.map((m) => ({ ...m })) };
  const server = world.nfs.servers.find((s) => s.name === name);
  if (!server) return { nfs: null, mounts: [] };
  const master = world.nfs.master === name;
  return {
    nfs: {
      serverRunning: server.nfsRunning,
      exports: world.nfs.datastores.map((d) => ({ path: d.path, clients: [...d.clients] })),
      datastores: world.nfs.datastores.map((d) => ({ path: d.path, totalBytes: d.totalBytes, usedBytes: d.usedBytes })),
      vip: { address: world.nfs.vip, heldHere: master },
      keepalivedState: master ? "master" : server.check.up ? "backup" : "fault",
      images: world.nfs.datastores.flatMap((d) => world.images.get(d.path) ?? []),
    },
    mounts: [],
  };
}
