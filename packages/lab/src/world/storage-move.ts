import { AgentError, conflict, notFound, type JobContext } from "@nimbus/agent";
import { AgentErrorCode, datastoreOfPath, type MoveDiskParams, type StorageMoveProgress } from "@nimbus/domain";
import type { DatastoreState, HypervisorState, VmState } from "./model.js";
import { requireLibvirtd } from "./power.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

const MiB = 1024 * 1024;

/**
 * A disk moved to another datastore, as `virsh blockcopy --wait --pivot` (VM running) or
 * `qemu-img convert` + `define` (VM off) do it: copy at the requested bandwidth, verify, switch
 * the domain to the new file, and only then delete the old one. Every failure before the switch
 * removes the partial copy and leaves the domain on its old disk.
 */
export async function moveDisk(world: World, host: string, params: MoveDiskParams, ctx: JobContext<StorageMoveProgress>): Promise<void> {
  const hv = world.hypervisor(host);
  requireLibvirtd(world, host);
  const vm = hv.domains.get(params.domain);
  if (!vm) throw notFound(`domain ${params.domain} on ${host}`);
  if (params.disk !== "vda") throw notFound(`disk ${params.disk} of ${params.domain}`);
  if (vm.migrating || vm.diskJob) throw conflict(`${vm.spec.name} already has a migration or block job running`);
  const live = vm.state === "running" || vm.state === "paused";
  if (!live && vm.state !== "shutoff") throw conflict(`cannot copy the disk of ${vm.spec.name}: domain is ${vm.state}`);
  const to = datastoreOf(world, hv, params.destinationPath);
  if (!to) throw new AgentError(AgentErrorCode.toolFailed, `Cannot access storage file '${params.destinationPath}': No such file or directory (no datastore mounted there on ${host})`);
  const from = datastoreOf(world, hv, vm.diskPath);
  if (from === to) throw conflict(`${vm.diskPath} is already on ${to.path}`);
  if ([...world.vms.values()].some((v) => v.diskPath === params.destinationPath)) throw conflict(`${params.destinationPath} already exists on ${to.path}`);

  vm.diskJob = true;
  const copy = { copied: 0 };
  try {
    await copyVerifySwitch(world, hv, vm, { from, to, live }, params, ctx, copy);
  } catch (err) {
    // The partial copy goes; the domain never left its old disk.
    to.usedBytes = Math.max(0, to.usedBytes - copy.copied);
    storageChanged(world);
    const why = ctx.signal.aborted ? "was cancelled" : `failed: ${err instanceof Error ? err.message : String(err)}`;
    throw new AgentError(AgentErrorCode.toolFailed, `${live ? "block copy" : "copy"} of ${vm.spec.name} ${params.disk} to ${to.path} ${why}; ${vm.spec.name} still uses ${vm.diskPath}`);
  } finally {
    vm.diskJob = false;
  }
}

interface Route {
  from: DatastoreState | null;
  to: DatastoreState;
  live: boolean;
}

async function copyVerifySwitch(
  world: World,
  hv: HypervisorState,
  vm: VmState,
  route: Route,
  params: MoveDiskParams,
  ctx: JobContext<StorageMoveProgress>,
  copy: { copied: number },
): Promise<void> {
  const total = Math.round(vm.spec.diskGiB * 1024 ** 3 * TIMINGS.diskAllocatedShare);
  const bandwidth = params.bandwidthMiBps ? params.bandwidthMiBps * MiB : TIMINGS.storageCopyBandwidthBytesPerSec;
  const mode = route.live ? "live" : "offline";
  let percent = 0;
  const report = (phase: StorageMoveProgress["phase"]) => {
    percent = Math.max(percent, Math.min(phase === "done" ? 100 : 99, (100 * copy.copied) / (total || 1)));
    ctx.report({ kind: "storage-move", phase, mode, bytesTotal: total, bytesCopied: Math.round(copy.copied), bandwidthBytesPerSec: phase === "copying" ? bandwidth : 0, percent: Math.round(percent * 10) / 10 });
  };
  const stillPossible = () => {
    const problem = ioProblem(world, hv, vm, route);
    if (problem) throw new Error(problem);
  };

  report("preparing");
  await world.clock.sleep(TIMINGS.storagePrepareMs, ctx.signal);
  stillPossible();
  while (copy.copied < total) {
    await world.clock.sleep(TIMINGS.storageTickMs, ctx.signal);
    stillPossible();
    const chunk = Math.min(total - copy.copied, (bandwidth * TIMINGS.storageTickMs) / 1000);
    if (route.to.usedBytes + chunk > route.to.totalBytes) throw new Error(`error writing ${params.destinationPath}: No space left on device`);
    copy.copied += chunk;
    route.to.usedBytes += chunk;
    storageChanged(world);
    report("copying");
  }
  // A mirror that reached "ready" is in sync; an offline copy is compared with its source.
  report("verifying");
  await world.clock.sleep(TIMINGS.storageVerifyMs, ctx.signal);
  stillPossible();
  report("switchover");
  await world.clock.sleep(TIMINGS.storageSwitchoverMs, ctx.signal);
  stillPossible();
  vm.diskPath = params.destinationPath;
  world.changed(hv.name, "virt");
  // Past the switch there is no way back: the old copy is deleted even if the job is cancelled now.
  report("cleanup");
  await world.clock.sleep(TIMINGS.storageCleanupMs);
  if (route.from) route.from.usedBytes = Math.max(0, route.from.usedBytes - total);
  storageChanged(world);
  report("done");
}

/** Why the copy cannot go on right now, if it cannot. */
function ioProblem(world: World, hv: HypervisorState, vm: VmState, route: Route): string | null {
  if (!world.host(hv.name).powered) return `${hv.name} lost power`;
  if (!hv.libvirtdUp) return `libvirtd on ${hv.name} stopped`;
  if (world.nfs.master === null) return `NFS server ${world.nfs.vip} not responding (no server holds the VIP)`;
  for (const ds of [route.from, route.to]) if (ds?.broken) return `Input/output error on ${ds.path}`;
  if (route.live && vm.state !== "running" && vm.state !== "paused") return `domain ${vm.spec.name} stopped during the block copy`;
  if (!route.live && vm.state !== "shutoff") return `domain ${vm.spec.name} was started during the offline copy`;
  return null;
}

function datastoreOf(world: World, hv: HypervisorState, path: string): DatastoreState | null {
  const ref = datastoreOfPath(path, hv.mounts);
  return ref ? (world.nfs.datastores.find((d) => d.path === ref.datastore) ?? null) : null;
}

function storageChanged(world: World): void {
  for (const s of world.nfs.servers) world.changed(s.name, "storage");
}
