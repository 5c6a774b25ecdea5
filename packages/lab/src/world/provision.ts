import { AgentError, conflict, notFound, type JobContext } from "@nimbus/agent";
import {
  AgentErrorCode,
  appendStepLog,
  cleanupPlan,
  createSteps,
  datastoreOfPath,
  failureSummary,
  setStep,
  deleteSteps,
  type CleanupAction,
  type CreateInstanceParams,
  type CreateProgress,
  type CreateStepId,
  type DeleteInstanceParams,
  type DeleteProgress,
  type ImageEntry,
  type OperationStep,
  type TunnelParams,
  type TunnelResult,
} from "@nimbus/domain";
import type { DatastoreState, HypervisorState, VmState } from "./model.js";
import { requireLibvirtd, startDomain, stopDomain } from "./power.js";
import { stableMac, stableUuid } from "./ids.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";
import { runSwarmInit } from "./swarm-lifecycle.js";

/**
 * `virt.create` and `virt.delete` in simulated time, step by step as the real driver runs them
 * (createSteps): the volume takes tens of lab seconds to build and fills its datastore, the
 * tenant's VXLAN tunnels appear with its first instance on a host and go with its last, the
 * guest gets an address of its tenant's subnet after boot. A failure or cancel runs the same
 * cleanup plan as a real host; a host that loses power runs nothing more (its agent is dead):
 * what it left is for the server to clean up when it returns.
 */
export async function createInstance(world: World, host: string, params: CreateInstanceParams, ctx: JobContext<CreateProgress>): Promise<CreateProgress> {
  const hv = world.hypervisor(host);
  let progress: CreateProgress = { kind: "create", steps: createSteps(params), address: null, undone: [] };
  const update = (steps: OperationStep[], patch: Partial<CreateProgress> = {}) => {
    progress = { ...progress, ...patch, steps };
    ctx.report(progress);
  };
  const at = () => new Date().toISOString();
  const log = (id: CreateStepId, ...lines: string[]) => update(appendStepLog(progress.steps, id, lines));
  let current: CreateStepId = "check";
  // The agent dies with its host: after a power cycle (a new boot) this job must not go on either.
  const boot = world.bootId(host);
  const alive = () => {
    if (!world.host(host).powered || world.bootId(host) !== boot) throw new HostDied(host);
  };
  const sleep = async (ms: number) => {
    await world.clock.sleep(ms, ctx.signal);
    alive();
  };
  const run = async (id: CreateStepId, work: () => Promise<void>) => {
    current = id;
    if (progress.steps.find((s) => s.id === id)?.state === "skipped") return;
    update(setStep(progress.steps, id, "running", at()));
    await work();
    update(setStep(progress.steps, id, "succeeded", at()));
  };

  try {
    await run("check", async () => {
      requireLibvirtd(world, host);
      await sleep(TIMINGS.createCheckMs);
      if (world.vms.has(params.name)) throw conflict(`domain ${params.name} already exists`);
      if (world.volumes.has(params.volumePath) || [...world.vms.values()].some((v) => v.diskPath === params.volumePath))
        throw conflict(`${params.volumePath} already exists`);
      const bridges = [hv.spec.network.linuxBridge.name, hv.spec.network.ovsBridge.name];
      if (!bridges.includes(params.nic.bridge)) throw notFound(`bridge ${params.nic.bridge} on ${host}`);
      if (!imageAt(world, hv, params)) throw notFound(`image ${params.image.name} in the repository ${params.image.repositoryIndex}`);
      log("check", `${params.name} is free, ${params.volumePath} does not exist, ${params.nic.bridge} is up`);
    });
    await run("build-volume", () => buildVolume(world, hv, params, (...l) => log("build-volume", ...l), sleep));
    await run("wire-network", async () => {
      for (const w of params.wiring) {
        if (w.kind !== "vxlan") continue;
        await sleep(TIMINGS.createWireMs);
        addTunnels(world, host, w.vni, w.vlan, w.peers.map((p) => p.host));
        log("wire-network", `ovs-vsctl add-port ${w.bridge} vx${w.vni} tag=${w.vlan} (options:key=${w.vni}${w.peers.length ? `, remote_ip=${w.peers.map((p) => p.address).join(",")}` : ""})`);
      }
    });
    await run("define", async () => {
      requireLibvirtd(world, host);
      await sleep(TIMINGS.createDefineMs);
      if (world.vms.has(params.name)) throw conflict(`domain ${params.name} already exists`);
      defineDomain(world, hv, params);
      log("define", `Domain '${params.name}' defined from /dev/stdin`);
    });
    await run("start", async () => {
      await sleep(TIMINGS.domainStartMs);
      requireLibvirtd(world, host);
      startDomain(world, world.vms.get(params.name)!);
      log("start", `Domain '${params.name}' started`);
    });
    await run("wait-address", async () => {
      const vm = world.vms.get(params.name)!;
      while (!vm.guestReady) {
        if (vm.state !== "running") throw new AgentError(AgentErrorCode.toolFailed, `${params.name} stopped while it booted (state ${vm.state})`);
        await sleep(TIMINGS.createPollMs);
      }
      await sleep(TIMINGS.firstBootMs);
      const ip = vm.spec.nics[0]!.ip;
      vm.addressed = true;
      world.changed(host, "virt");
      // Create swarm: a first boot that ran `docker swarm init` made this VM a manager.
      runSwarmInit(world, vm);
      log("wait-address", ` vnet0      ${vm.macs[0]}    ipv4         ${ip}/24`);
      progress = { ...progress, address: ip };
    });
    return progress;
  } catch (err) {
    if (err instanceof HostDied) throw err;
    const reason = ctx.signal.aborted ? "cancelled" : errMessage(err);
    let steps = appendStepLog(setStep(progress.steps, current, "failed", at()), current, [reason]);
    const undone: string[] = [];
    for (const action of cleanupPlan(params, current)) {
      const done = undo(world, host, action);
      if (done) undone.push(done);
    }
    steps = steps.map((s) => (s.state === "succeeded" && stepUndone(s.id as CreateStepId, current) ? { ...s, state: "undone" } : s));
    update(steps, { undone });
    const summary = ctx.signal.aborted ? `cancelled during "${progress.steps.find((s) => s.id === current)!.label}"` : failureSummary(steps);
    throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, `${summary}${undone.length ? `; undone: ${undone.join(", ")}` : "; nothing to undo"}`);
  }
}

/** Runs a delete's actions in order, each skipped when there is nothing to do. */
export async function deleteInstance(world: World, host: string, params: DeleteInstanceParams, ctx: JobContext<DeleteProgress>): Promise<DeleteProgress> {
  // Not required to exist: the cleanup of a create its agent lost runs as a delete of what may be half there.
  requireLibvirtd(world, host);
  const boot = world.bootId(host);
  let steps = deleteSteps(params.actions);
  const progress = (): DeleteProgress => ({ kind: "delete", steps, kept: params.kept });
  for (const [i, action] of params.actions.entries()) {
    const id = steps[i]!.id;
    steps = setStep(steps, id, "running", new Date().toISOString());
    ctx.report(progress());
    await world.clock.sleep(TIMINGS.deleteStepMs, ctx.signal);
    if (!world.host(host).powered || world.bootId(host) !== boot) throw new HostDied(host);
    const done = undo(world, host, action);
    steps = appendStepLog(setStep(steps, id, done ? "succeeded" : "skipped", new Date().toISOString()), id, [done ?? "nothing to do"]);
    ctx.report(progress());
  }
  return progress();
}

/** A step whose work the cleanup of a failure at `failed` took back. */
const stepUndone = (id: CreateStepId, failed: CreateStepId) =>
  (id === "build-volume" || id === "wire-network" || id === "define" || id === "start") && id !== failed;

/** One undo action; what it did in words, or null when there was nothing to do (idempotent). */
function undo(world: World, host: string, action: CleanupAction): string | null {
  const hv = world.hypervisor(host);
  switch (action.kind) {
    case "destroy-domain": {
      const vm = hv.domains.get(action.name);
      if (!vm || (vm.state !== "running" && vm.state !== "paused")) return null;
      stopDomain(world, vm);
      return `forced off ${action.name}`;
    }
    case "undefine-domain": {
      const vm = hv.domains.get(action.name);
      if (!vm) return null;
      if (vm.state === "running" || vm.state === "paused") stopDomain(world, vm);
      // The volume outlives its domain until remove-volume: remember it (and its size) by path.
      if (!world.volumes.has(vm.diskPath)) world.volumes.set(vm.diskPath, Math.round(vm.spec.diskGiB * 1024 ** 3 * TIMINGS.diskAllocatedShare));
      hv.domains.delete(action.name);
      world.vms.delete(action.name);
      world.changed(host, "virt", "net");
      return `undefined ${action.name}`;
    }
    case "release-network": {
      const stillUsed = [...hv.domains.values()].some((vm) => vm.spec.nics.some((n) => n.bridge === action.bridge && n.vlan === action.vlan));
      const tunnel = world.tunnels.get(action.vni);
      if (stillUsed || !tunnel?.hosts.has(host)) return null;
      removeTunnels(world, host, action.vni);
      return `removed VNI ${action.vni} from ${action.bridge}`;
    }
    case "remove-volume": {
      const bytes = world.volumes.get(action.path);
      const ds = datastoreAt(world, hv, action.path);
      const vm = [...world.vms.values()].find((v) => v.diskPath === action.path);
      if (bytes === undefined && !vm) return null;
      if (ds) ds.usedBytes = Math.max(0, ds.usedBytes - (bytes ?? 0));
      world.volumes.delete(action.path);
      storageChanged(world);
      return `removed ${action.path}`;
    }
  }
}

/** virt-builder's run, as its log reads; the volume grows on the datastore as it is written. */
async function buildVolume(world: World, hv: HypervisorState, params: CreateInstanceParams, log: (...lines: string[]) => void, sleep: (ms: number) => Promise<void>) {
  const image = imageAt(world, hv, params)!;
  const ds = datastoreAt(world, hv, params.volumePath);
  if (!ds) throw new AgentError(AgentErrorCode.toolFailed, `virt-builder: error: cannot create ${params.volumePath}: No such file or directory`);
  const total = Math.round(image.virtualSizeBytes * TIMINGS.diskAllocatedShare);
  const lines = [
    `[   0.0] Setting up the appliance (LIBGUESTFS_BACKEND_SETTINGS=force_tcg)`,
    `[   2.1] Opening the source: ${params.image.name}`,
    `[   9.4] Creating disk image: ${params.volumePath} (${params.diskGiB}G)`,
    `[  31.2] Resizing (using virt-resize) to expand the disk to ${params.diskGiB}G`,
    `[  58.0] Opening the new disk`,
    `[  71.5] Setting the hostname: ${params.name}`,
    ...(params.sshKeys.length ? [`[  72.0] Installing SSH keys for root (${params.sshKeys.length})`] : []),
    ...params.firstBoot.map((c, i) => `[  72.${i + 1}] Installing firstboot command: ${c}`),
    `[  80.3] Finishing off`,
  ];
  const written = { bytes: 0 };
  world.volumes.set(params.volumePath, 0);
  const tick = TIMINGS.imageBuildMs / lines.length;
  for (const [i, line] of lines.entries()) {
    log(line);
    await sleep(tick);
    if (ds.broken) throw new AgentError(AgentErrorCode.toolFailed, `virt-builder: error: writing ${params.volumePath}: Input/output error`);
    if (world.failingImageBuilds.has(params.image.name) && i >= 2)
      throw new AgentError(AgentErrorCode.toolFailed, `virt-builder: error: [file] ${params.image.name}: checksum of template did not match the expected checksum`);
    const chunk = Math.round(total / lines.length);
    if (ds.usedBytes + chunk > ds.totalBytes) throw new AgentError(AgentErrorCode.toolFailed, `virt-builder: error: qemu-img: ${params.volumePath}: error while writing: No space left on device`);
    written.bytes += chunk;
    ds.usedBytes += chunk;
    world.volumes.set(params.volumePath, written.bytes);
    storageChanged(world);
  }
}

function defineDomain(world: World, hv: HypervisorState, params: CreateInstanceParams) {
  const dir = params.volumePath.slice(0, params.volumePath.lastIndexOf("/")) || "/";
  const vm: VmState = {
    spec: {
      name: params.name,
      host: hv.name,
      vcpus: params.vcpus,
      memoryMiB: params.memoryMiB,
      diskGiB: params.diskGiB,
      pool: dir.split("/").filter(Boolean).at(-1) ?? "default",
      diskDir: dir,
      tenant: params.tenant,
      role: null,
      nics: [{ bridge: params.nic.bridge, vlan: params.nic.vlan, ip: tenantAddress(world, params) }],
      state: "shutoff",
      autostart: false,
    },
    uuid: stableUuid(params.name),
    macs: [stableMac(`${params.name}/0`)],
    host: hv.name,
    state: "shutoff",
    devices: [null],
    migrating: false,
    diskPath: params.volumePath,
    diskJob: false,
    guestReady: false,
    pending: null,
    addressed: false,
    image: params.image.name,
    firstBoot: params.firstBoot,
  };
  hv.domains.set(params.name, vm);
  world.vms.set(params.name, vm);
  world.changed(hv.name, "virt");
}

/** The lowest free address from .100 up in the subnet the tenant's VMs use on this VLAN (else 10.<vni>.0/24). */
function tenantAddress(world: World, params: CreateInstanceParams): string {
  // A Linux bridge tags nothing without a port-vlan action: such a VM (a swarm worker) sits untagged beside the VMs already there.
  const vlan = params.nic.bridgeType === "linux" && !params.wiring.some((w) => w.kind === "port-vlan") ? null : params.nic.vlan;
  const peers = [...world.vms.values()].filter((v) => v.spec.tenant === params.tenant).flatMap((v) => v.spec.nics.filter((n) => n.vlan === vlan && n.ip).map((n) => n.ip!));
  const vni = params.wiring.find((w) => w.kind === "vxlan")?.vni ?? 0;
  const prefix = peers[0]?.split(".").slice(0, 3).join(".") ?? `10.${(vni >> 8) & 255}.${vni & 255}`;
  const taken = new Set([...world.vms.values()].flatMap((v) => v.spec.nics.map((n) => n.ip)));
  for (let n = 100; n < 255; n++) if (!taken.has(`${prefix}.${n}`)) return `${prefix}.${n}`;
  throw new AgentError(AgentErrorCode.conflict, `no free address left in ${prefix}.0/24`);
}

/**
 * The host joins the VNI's mesh with its tunnels to the peers the server named, as a real
 * host's ovs-vsctl adds them (the peers' ports back come from net.ensureTunnel, see
 * ensureLabTunnel), and the VLAN goes on the bridge's trunk if it was not there (the
 * topology's vlan-not-trunked rule); both leave with the tenant's last instance there.
 */
function addTunnels(world: World, host: string, vni: number, vlan: number, peers: string[]) {
  const t = world.tunnels.get(vni) ?? { vlan, hosts: new Set<string>(), trunked: new Set<string>(), ports: new Map<string, Set<string>>(), flow: new Set<string>() };
  t.hosts.add(host);
  if (!peers.length) t.flow.add(host);
  const ports = t.ports.get(host) ?? new Set<string>();
  for (const p of peers) if (p !== host) ports.add(p);
  t.ports.set(host, ports);
  const hv = world.hypervisor(host);
  if (!hv.trunkVlans.has(vlan)) {
    hv.trunkVlans.add(vlan);
    t.trunked.add(host);
  }
  world.tunnels.set(vni, t);
  for (const h of t.hosts) world.changed(h, "net");
}

function removeTunnels(world: World, host: string, vni: number) {
  const t = world.tunnels.get(vni);
  if (!t) return;
  t.hosts.delete(host);
  t.ports.delete(host);
  t.flow.delete(host);
  if (t.trunked.delete(host)) world.hypervisor(host).trunkVlans.delete(t.vlan);
  world.changed(host, "net");
  // The peers' ports to this host stay until the server releases them (net.releaseTunnel).
  if (!t.hosts.size && !t.ports.size) world.tunnels.delete(vni);
}

/**
 * `net.ensureTunnel` / `net.releaseTunnel` on a lab hypervisor: this host's port of a created
 * VNI to the host at `remoteIp`, idempotent as ovs-vsctl's --may-exist / --if-exists. Scenario
 * tenants' meshes are fixed by the scenario and need nothing.
 */
export function labTunnel(world: World, host: string, params: TunnelParams, want: boolean): TunnelResult {
  const hv = world.hypervisor(host);
  if (params.bridge !== hv.spec.network.ovsBridge.name) throw notFound(`Open vSwitch bridge ${params.bridge} on ${host}`);
  const remote = world.hostNames().find((h) => world.host(h).address === params.remoteIp);
  const port = remote ? `vx${params.vni}-${remote}`.slice(0, 15) : null;
  if (world.tenants.some((t) => t.vni === params.vni) || hv.spec.network.flowTunnels) return { port, changed: false };
  if (!remote) {
    if (want) throw new AgentError(AgentErrorCode.toolFailed, `no lab host answers on ${params.remoteIp}`);
    return { port: null, changed: false };
  }
  const t = world.tunnels.get(params.vni);
  const ports = t?.ports.get(host);
  if (want === !!ports?.has(remote)) return { port, changed: false };
  if (want) {
    const entry = t ?? { vlan: params.vlan, hosts: new Set<string>(), trunked: new Set<string>(), ports: new Map<string, Set<string>>(), flow: new Set<string>() };
    entry.ports.set(host, (ports ?? new Set<string>()).add(remote));
    world.tunnels.set(params.vni, entry);
  } else {
    ports!.delete(remote);
    // Its last point-to-point port: a host still running the tenant's instances keeps a flow-based one, as a real agent does.
    if (!ports!.size) {
      t!.ports.delete(host);
      if (t!.hosts.has(host)) t!.flow.add(host);
    }
    if (!t!.hosts.size && !t!.ports.size) world.tunnels.delete(params.vni);
  }
  world.changed(host, "net");
  return { port, changed: true };
}

function imageAt(world: World, hv: HypervisorState, params: CreateInstanceParams): ImageEntry | undefined {
  const ds = datastoreAt(world, hv, params.volumePath);
  return ds ? world.images.get(ds.path)?.find((i) => i.name === params.image.name) : undefined;
}

function datastoreAt(world: World, hv: HypervisorState, path: string): DatastoreState | null {
  const ref = datastoreOfPath(path, hv.mounts);
  return ref ? (world.nfs.datastores.find((d) => d.path === ref.datastore) ?? null) : null;
}

function storageChanged(world: World) {
  for (const s of world.nfs.servers) world.changed(s.name, "storage");
}

/** The host lost power mid-job: its agent is gone with it and cleans nothing up. */
class HostDied extends AgentError {
  constructor(host: string) {
    super(AgentErrorCode.toolFailed, `${host} lost power`);
  }
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
