import { conflict, notFound } from "@nimbus/agent";
import { snapshotsAllowed, type Snapshot, type SnapshotCreateParams, type SnapshotListResult, type SnapshotTarget } from "@nimbus/domain";
import type { VmState } from "./model.js";
import { requireLibvirtd, startDomain, stopDomain } from "./power.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

/**
 * virsh snapshot-* on a lab hypervisor: snapshots live on the VM, in the world. The disk's format
 * is its file's (a `.qcow2` volume, else raw), so the same rule refuses what libvirt would.
 */
function domainOn(world: World, hostName: string, domain: string): VmState {
  requireLibvirtd(world, hostName);
  const vm = world.hypervisor(hostName).domains.get(domain);
  if (!vm) throw notFound(`domain ${domain} on ${hostName}`);
  return vm;
}

export const snapshotsAllowedFor = (vm: VmState) => snapshotsAllowed([{ target: "vda", format: vm.diskPath.endsWith(".qcow2") ? "qcow2" : "raw" }]);

function snapshotOf(vm: VmState, hostName: string, name: string): Snapshot {
  const snap = vm.snapshots?.find((s) => s.name === name);
  if (!snap) throw notFound(`snapshot ${name} of domain ${vm.spec.name} on ${hostName}`);
  return snap;
}

const busy = (vm: VmState, hostName: string) => {
  if (vm.migrating || vm.diskJob) throw conflict(`domain ${vm.spec.name} on ${hostName}: the VM already has a migration or disk job running`);
};

export function listSnapshots(world: World, hostName: string, domain: string): SnapshotListResult {
  const vm = domainOn(world, hostName, domain);
  return { allowed: snapshotsAllowedFor(vm), snapshots: (vm.snapshots ?? []).map((s) => ({ ...s })) };
}

export async function createSnapshot(world: World, hostName: string, p: SnapshotCreateParams): Promise<Snapshot> {
  const vm = domainOn(world, hostName, p.domain);
  const rule = snapshotsAllowedFor(vm);
  if (!rule.ok) throw conflict(`domain ${p.domain} on ${hostName} cannot take a snapshot: ${rule.reason}`);
  busy(vm, hostName);
  if (vm.snapshots?.some((s) => s.name === p.name))
    throw conflict(`snapshot ${p.name} of domain ${p.domain} on ${hostName}: a snapshot with that name already exists; pick another name`);
  const state = vm.state;
  await world.clock.sleep(TIMINGS.snapshotCreateMs);
  const snap: Snapshot = { name: p.name, description: p.description, state, createdAt: new Date().toISOString(), current: true };
  vm.snapshots = [...(vm.snapshots ?? []).map((s) => ({ ...s, current: false })), snap];
  // The virt section carries snapshots: pushed as libvirt's next event would have it read.
  world.changed(hostName, "virt");
  return { ...snap };
}

/** The VM returns to the snapshot's disk and, for a running one, its memory: it runs or is off as it was then. */
export async function revertSnapshot(world: World, hostName: string, p: SnapshotTarget): Promise<void> {
  const vm = domainOn(world, hostName, p.domain);
  const snap = snapshotOf(vm, hostName, p.name);
  busy(vm, hostName);
  await world.clock.sleep(TIMINGS.snapshotRevertMs);
  const wasActive = vm.state === "running" || vm.state === "paused";
  if (snap.state === "running" && !wasActive) startDomain(world, vm);
  else if (snap.state !== "running" && wasActive) stopDomain(world, vm);
  vm.snapshots = (vm.snapshots ?? []).map((s) => ({ ...s, current: s.name === p.name }));
  world.changed(hostName, "virt");
}

export async function deleteSnapshot(world: World, hostName: string, p: SnapshotTarget): Promise<void> {
  const vm = domainOn(world, hostName, p.domain);
  snapshotOf(vm, hostName, p.name);
  vm.snapshots = (vm.snapshots ?? []).filter((s) => s.name !== p.name);
  world.changed(hostName, "virt");
}
