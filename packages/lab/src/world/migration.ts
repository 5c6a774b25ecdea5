import { AgentError, conflict, notFound, type JobContext } from "@nimbus/agent";
import { AgentErrorCode, datastoreOfPath, type MigrateParams, type MigrationProgress } from "@nimbus/domain";
import { nameHash } from "./ids.js";
import type { HypervisorState, VmState } from "./model.js";
import { requireLibvirtd } from "./power.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

const MiB = 1024 * 1024;
const HOST_RESERVED_MIB = 2_048;

/**
 * A pre-copy live migration as QEMU does it: copy all RAM, then re-send what the guest dirtied
 * meanwhile, iteration after iteration, until the rest fits in the allowed downtime; then pause,
 * send the rest and resume on the destination. Until that switchover the VM runs on the source
 * and any failure or cancel leaves it there; after it, the VM exists only on the destination.
 */
export async function migrateDomain(
  world: World,
  sourceName: string,
  params: MigrateParams,
  ctx: JobContext<MigrationProgress>,
): Promise<{ downtimeMs: number }> {
  const src = world.hypervisor(sourceName);
  requireLibvirtd(world, sourceName);
  const vm = src.domains.get(params.domain);
  if (!vm) throw notFound(`domain ${params.domain} on ${sourceName}`);
  if (vm.migrating) throw conflict(`${vm.spec.name} is already being migrated`);
  if (vm.diskJob) throw conflict(`${vm.spec.name} has a block job running (disk copy); migrate it once the copy ends`);
  if (vm.state !== "running") throw conflict(`cannot migrate ${vm.spec.name}: domain is not running (${vm.state}) on ${sourceName}`);
  const destName = params.destination.host;
  if (destName === sourceName) throw conflict(`${vm.spec.name} already runs on ${sourceName}`);
  const dest = world.hypervisors.get(destName);
  if (!dest) throw new AgentError(AgentErrorCode.toolFailed, `cannot migrate ${vm.spec.name}: ${destName} is not a hypervisor known to ${sourceName}`);

  const failure = (reason: string) => new AgentError(AgentErrorCode.toolFailed, `migration of ${vm.spec.name} to ${destName} failed: ${reason}; ${vm.spec.name} still runs on ${sourceName}`);
  const stillPossible = () => {
    if (vm.state !== "running")
      throw new AgentError(AgentErrorCode.toolFailed, `migration of ${vm.spec.name} to ${destName} failed: ${vm.spec.name} stopped on ${sourceName} (${vm.state}) and runs nowhere`);
    const problem = linkProblem(world, src, dest);
    if (problem) throw failure(problem);
  };
  stillPossible();
  // libvirt refuses a VM whose disk the destination cannot see; said in the real agent's words and code.
  if (!datastoreOfPath(vm.diskPath, dest.mounts)) {
    throw new AgentError(
      AgentErrorCode.conflict,
      `migration of ${vm.spec.name} to ${destName} failed: its disk ${vm.diskPath} is not on shared storage that both hosts see (no datastore ${destName} mounts), and libvirt refuses to live-migrate such a VM; move the disk to a datastore mounted on both hosts first; ${vm.spec.name} still runs on ${sourceName}`,
    );
  }
  const placement = placementProblem(vm, dest);
  if (placement) throw failure(placement);

  vm.migrating = true;
  try {
    return await copyAndSwitch(world, vm, src, dest, params, ctx, stillPossible);
  } catch (err) {
    if (ctx.signal.aborted) throw new AgentError(AgentErrorCode.conflict, `migration of ${vm.spec.name} to ${destName} cancelled; ${vm.spec.name} still runs on ${sourceName}`);
    throw err;
  } finally {
    vm.migrating = false;
  }
}

async function copyAndSwitch(
  world: World,
  vm: VmState,
  src: HypervisorState,
  dest: HypervisorState,
  params: MigrateParams,
  ctx: JobContext<MigrationProgress>,
  stillPossible: () => void,
): Promise<{ downtimeMs: number }> {
  const total = vm.spec.memoryMiB * MiB;
  const bandwidth = params.options.bandwidthMiBps ? params.options.bandwidthMiBps * MiB : world.migrationBandwidthBytesPerSec;
  // Busy guests dirty more; auto-converge throttles the guest's vCPUs to dirty less.
  const dirtyShare = (0.08 + (nameHash(vm.spec.name) % 10) / 100) * (params.options.autoConverge ? 0.5 : 1);
  const dirtyRate = bandwidth * dirtyShare;
  const maxDowntimeMs = params.options.maxDowntimeMs ?? TIMINGS.migrationMaxDowntimeMs;
  const dt = TIMINGS.migrationTickMs / 1000;

  let iteration = 0;
  let inFlight = total; // still to send in this iteration
  let dirtied = 0; // dirtied since this iteration began, sent in the next
  let processed = 0;
  let percent = 0;
  const progress = (phase: MigrationProgress["phase"]): MigrationProgress => {
    const remaining = inFlight + dirtied;
    percent = Math.max(percent, Math.min(99, (100 * processed) / (processed + remaining || 1)));
    return {
      kind: "migrate",
      phase,
      memoryTotalBytes: total,
      memoryProcessedBytes: Math.round(processed),
      memoryRemainingBytes: Math.round(remaining),
      bandwidthBytesPerSec: phase === "preparing" ? 0 : Math.round(bandwidth),
      dirtyRateBytesPerSec: iteration > 0 ? Math.round(dirtyRate) : 0,
      iteration,
      expectedDowntimeMs: iteration > 0 ? Math.round((remaining / bandwidth) * 1000) : null,
      percent: Math.round(percent * 10) / 10,
      downtimeMs: null,
    };
  };

  ctx.report(progress("preparing"));
  await world.clock.sleep(TIMINGS.migrationPrepareMs, ctx.signal);
  stillPossible();
  iteration = 1;
  for (;;) {
    await world.clock.sleep(TIMINGS.migrationTickMs, ctx.signal);
    stillPossible();
    const sent = Math.min(inFlight, bandwidth * dt);
    processed += sent;
    inFlight -= sent;
    dirtied = Math.min(total, dirtied + dirtyRate * dt);
    if (inFlight === 0) {
      if ((dirtied / bandwidth) * 1000 <= maxDowntimeMs) break;
      iteration++;
      inFlight = dirtied;
      dirtied = 0;
    }
    ctx.report(progress("copying"));
  }

  // Switchover: the guest pauses while the last dirty pages go; past this point there is no way back.
  ctx.report(progress("switchover"));
  const downtimeMs = Math.round((dirtied / bandwidth) * 1000 + 12 + (nameHash(vm.spec.name) % 30));
  await world.clock.sleep(downtimeMs);
  stillPossible();
  moveDomain(world, vm, src, dest);
  processed += dirtied;
  inFlight = 0;
  dirtied = 0;
  percent = 100;
  ctx.report({ ...progress("finishing"), percent: 100 });
  await world.clock.sleep(TIMINGS.migrationFinishMs);
  return { downtimeMs };
}

function moveDomain(world: World, vm: VmState, src: HypervisorState, dest: HypervisorState): void {
  src.domains.delete(vm.spec.name);
  vm.host = dest.name;
  dest.domains.set(vm.spec.name, vm);
  world.plugNics(vm, dest);
  world.changed(src.name, "virt", "net", "node");
  world.changed(dest.name, "virt", "net", "node");
}

/** Why the migration stream cannot flow between the two hosts right now, if it cannot. */
function linkProblem(world: World, src: HypervisorState, dest: HypervisorState): string | null {
  const d = world.host(dest.name);
  if (!d.powered) return `${dest.name} is unreachable (host is down)`;
  if (d.linkCut) return `${dest.name} is unreachable (no route to host: its link is down)`;
  if (world.host(src.name).linkCut) return `${src.name} lost its network link`;
  if (!dest.libvirtdUp) return `cannot connect to libvirtd on ${dest.name} (qemu+ssh://${dest.name}/system): libvirtd is not running`;
  return null;
}

/** RAM a hypervisor could still give VMs, as it sees it (what `free` would say). */
export const freeMemoryMiB = (hv: HypervisorState): number =>
  hv.hardware.memoryMiB - HOST_RESERVED_MIB - [...hv.domains.values()].filter((d) => d.state === "running" || d.state === "paused").reduce((s, d) => s + d.spec.memoryMiB, 0);

/** What the destination lacks to run this domain: its disk path, a bridge, a VLAN on the trunk, memory. */
function placementProblem(vm: VmState, dest: HypervisorState): string | null {
  const { linuxBridge, ovsBridge } = dest.spec.network;
  for (const nic of vm.spec.nics) {
    if (nic.bridge !== linuxBridge.name && nic.bridge !== ovsBridge.name) return `bridge ${nic.bridge} does not exist on ${dest.name} (Cannot get interface MTU on '${nic.bridge}': No such device)`;
    if (nic.vlan !== null && !dest.trunkVlans.has(nic.vlan)) {
      const carried = [...dest.trunkVlans].sort((a, b) => a - b).join(",");
      return `VLAN ${nic.vlan} is not carried by the ${nic.bridge} trunk on ${dest.name} (trunk carries ${carried})`;
    }
  }
  const free = freeMemoryMiB(dest);
  if (free < vm.spec.memoryMiB) return `${dest.name} cannot allocate ${vm.spec.memoryMiB} MiB (${Math.max(0, free)} MiB free)`;
  return null;
}
