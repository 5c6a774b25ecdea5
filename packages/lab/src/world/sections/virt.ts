import { DOMAIN_SNAPSHOTS_MAX, type Domain, type VirtSection } from "@nimbus/domain";
import { snapshotsAllowedFor } from "../snapshots.js";
import type { VmState } from "../model.js";
import type { World } from "../world.js";

/** The domains defined on one hypervisor, as `virsh list --all` + `dumpxml` would describe them. */
export function virtSection(world: World, name: string): VirtSection {
  const hv = world.hypervisor(name);
  return { hypervisor: `QEMU 7.2.0 / libvirt 9.0.0 on ${name}`, domains: [...hv.domains.values()].map((vm) => domainOf(world, vm)) };
}

/** The scenario's pool while the disk is where the scenario put it; after a move, the directory's name. */
const poolOf = (vm: VmState) =>
  vm.diskPath.startsWith(`${vm.spec.diskDir}/`) ? vm.spec.pool : vm.diskPath.split("/").slice(-2, -1)[0] || null;

export function domainOf(world: World, vm: VmState): Domain {
  const hv = world.hypervisor(vm.host);
  const { spec } = vm;
  const running = vm.state === "running" || vm.state === "paused";
  return {
    name: spec.name,
    uuid: vm.uuid,
    state: vm.state,
    vcpus: spec.vcpus,
    memoryMiB: spec.memoryMiB,
    tenant: spec.tenant,
    role: spec.role,
    ...(vm.image ? { image: vm.image } : {}),
    cpuModel: null,
    cpuFeatures: [],
    disks: [{ target: "vda", path: vm.diskPath, pool: poolOf(vm), capacityBytes: spec.diskGiB * 1024 ** 3 }],
    nics: spec.nics.map((nic, i) => ({
      mac: vm.macs[i]!,
      bridge: nic.bridge,
      bridgeType: nic.bridge === hv.spec.network.ovsBridge.name ? ("ovs" as const) : ("linux" as const),
      device: vm.devices[i] ?? null,
      vlan: nic.vlan,
      model: "virtio",
      ipAddresses: running && nic.ip && vm.addressed !== false ? [nic.ip] : [],
    })),
    persistent: true,
    autostart: spec.autostart,
    snapshots: { allowed: snapshotsAllowedFor(vm), items: (vm.snapshots ?? []).slice(-DOMAIN_SNAPSHOTS_MAX).map((s) => ({ ...s })), total: vm.snapshots?.length ?? 0 },
  };
}
