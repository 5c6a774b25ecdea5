import { randomDockerId, swarmJoinTokens } from "./ids.js";
import type { SwarmState, VmState } from "./model.js";
import { stopDomain } from "./power.js";
import { SwarmSim } from "./swarm.js";
import { joinState } from "./swarm-nodes.js";
import type { World } from "./world.js";

/**
 * A swarm that is not there, and one made from nothing. `swarm-teardown` (a lab fault) takes
 * the swarm apart the way an operator starting over would: every node leaves, and the swarm's
 * VMs are deleted; the hosts the fleet lists for them stay in its configuration, unreachable
 * until a VM of that name runs again. "Create swarm" then builds a manager VM whose first boot
 * runs `docker swarm init`: once its first boot is done the lab makes it the manager of a new
 * swarm (new cluster id and tokens, no services), and when it carries the name of one of those
 * hosts, that host's agent answers again and reports it. Clearing the fault puts the original
 * swarm and its VMs back (what was built meanwhile under their names is deleted).
 */

const SWARM_INIT = /\bdocker swarm init\b/;
/** Engine of a swarm made in the lab when the scenario names none. */
const LAB_ENGINE_VERSION = "24.0.7";

interface Saved {
  swarm: SwarmState;
  vms: VmState[];
}
const saved = new WeakMap<World, Saved>();

export const swarmTornDown = (world: World): boolean => saved.has(world);

/** Removes a VM from its hypervisor (forced off first); the lab host of that name goes unreachable. */
function removeVm(world: World, vm: VmState): void {
  if (vm.state === "running" || vm.state === "paused") stopDomain(world, vm);
  world.hypervisor(vm.host).domains.delete(vm.spec.name);
  world.vms.delete(vm.spec.name);
  world.changed(vm.host, "virt", "net", "node");
  if (world.isLabHost(vm.spec.name)) world.changed(vm.spec.name, "reachability");
}

/** Every node leaves and the swarm's VMs are deleted. Returns their names. */
export function teardownSwarm(world: World): string[] {
  const sw = world.swarm;
  if (!sw) throw new Error(saved.has(world) ? "the swarm is torn down already" : "this lab has no swarm");
  if (saved.has(world)) throw new Error("a swarm built after the teardown runs: delete its VMs first, or clear swarm-teardown");
  const vms = [...sw.nodes.keys()].flatMap((n) => {
    const vm = world.vms.get(n);
    return vm ? [vm] : [];
  });
  const manager = world.swarmSim!.manager.hostname;
  world.swarmSim!.stop();
  world.swarm = null;
  world.swarmSim = null;
  world.changed(manager, "swarm");
  for (const vm of vms) removeVm(world, vm);
  saved.set(world, { swarm: sw, vms });
  return vms.map((v) => v.spec.name);
}

/** The original swarm and its VMs back, running; a swarm made meanwhile is dropped. */
export function restoreSwarm(world: World): void {
  const s = saved.get(world);
  if (!s) throw new Error("the swarm is not torn down");
  saved.delete(world);
  world.swarmSim?.stop();
  for (const vm of s.vms) {
    const now = world.vms.get(vm.spec.name);
    if (now) removeVm(world, now);
  }
  world.swarm = s.swarm;
  for (const vm of s.vms) {
    const hv = world.hypervisor(vm.host);
    vm.pending = null;
    vm.state = "running";
    world.plugNics(vm, hv);
    vm.guestReady = true;
    hv.domains.set(vm.spec.name, vm);
    world.vms.set(vm.spec.name, vm);
    if (world.isLabHost(vm.spec.name)) {
      world.rebooted(vm.spec.name);
      world.changed(vm.spec.name, "reachability", "node", "swarm");
    }
    world.changed(vm.host, "virt", "net", "node");
  }
  for (const n of s.swarm.nodes.values()) n.silentSince = null;
  world.swarmSim = new SwarmSim(world, { placeTasks: false });
  world.changed(world.swarmSim.manager.hostname, "swarm");
}

/**
 * A created VM's first boot is done: when it runs `docker swarm init` and the lab has no swarm,
 * it is the manager of a new one. With a swarm already there the init is refused here (the lab
 * simulates one swarm) and the failure is kept like a failed join's.
 */
export function runSwarmInit(world: World, vm: VmState): void {
  if (!vm.firstBoot?.some((c) => SWARM_INIT.test(c))) return;
  const name = vm.spec.name;
  if (world.swarm) {
    joinState(world).failures.set(name, "the lab simulates one swarm, and one runs: this docker swarm init made a second, which no host reports");
    return;
  }
  const address = vm.spec.nics.find((n) => n.ip)?.ip ?? "";
  world.swarm = {
    clusterId: randomDockerId(),
    engineVersion: world.scenario.swarm?.engineVersion ?? LAB_ENGINE_VERSION,
    tokens: swarmJoinTokens(),
    nodes: new Map([[name, { id: randomDockerId(), hostname: name, role: "manager", availability: "active", engineUp: true, silentSince: null, status: "ready", address }]]),
    services: new Map(),
    tasks: [],
  };
  world.swarmSim = new SwarmSim(world);
  world.changed(name, "swarm");
}
