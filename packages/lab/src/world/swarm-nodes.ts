import { AgentError, conflict, notFound, type SwarmNodesDriver } from "@nimbus/agent";
import { AgentErrorCode, quorumView, type SwarmNodeUpdateParams, type SwarmTask } from "@nimbus/domain";
import { randomDockerId, swarmJoinTokens } from "./ids.js";
import type { SwarmNodeState, SwarmState } from "./model.js";
import type { SwarmSim } from "./swarm.js";
import { LAB_BASE_IMAGES, stackState } from "./swarm-stacks.js";
import { normalizeImage } from "@nimbus/domain/compose";
import type { World } from "./world.js";

/**
 * Swarm nodes on demand in the lab: a created VM whose first-boot commands run
 * `docker swarm join --token T ADDR:2377` joins once its first boot is done, if ADDR is a
 * manager that is up and T is the current token of a role (a token rotated between the build
 * and the boot is refused, as dockerd refuses it); it becomes Ready a moment later unless the
 * `stuck-swarm-join` fault holds it down. Node changes (label, promote, demote, rm), token
 * rotation and `swarm leave` act on the same state.
 */
interface JoinState {
  /** VMs whose join was tried (a first-boot command runs once; a VM made again under the same name boots anew). */
  tried: WeakSet<object>;
  /** stuck-swarm-join: these VMs (or "all") join but never become Ready. */
  stuck: Set<string>;
  /** What each failed join printed, for tests and `pnpm lab status`. */
  failures: Map<string, string>;
  /** Node labels, by hostname (the inventory does not carry them). */
  labels: Map<string, Record<string, string>>;
  /** swarm-nodes-full: nodes with no room for another task (the scheduler leaves new tasks pending). */
  full: Set<string>;
  /** Tasks per service the scheduler could not place, shown pending as docker shows them. */
  pending: Map<string, number>;
}
const states = new WeakMap<World, JoinState>();
export function joinState(world: World): JoinState {
  let s = states.get(world);
  if (!s) states.set(world, (s = { tried: new WeakSet(), stuck: new Set(), failures: new Map(), labels: new Map(), full: new Set(), pending: new Map() }));
  return s;
}

/** A joined node's first heartbeat reaches the manager this long after the join (lab ms). */
const JOIN_READY_MS = 1_000;
const JOIN = /docker swarm join --token (\S+) ([A-Za-z0-9.:-]+):2377/;

/** A swarm node that is a created VM (not a lab host with its own endpoint): up while its domain runs. */
export function vmNodeAlive(world: World, n: SwarmNodeState): boolean {
  const vm = world.vms.get(n.hostname);
  return !!vm && vm.state === "running" && vm.guestReady && world.host(vm.host).powered;
}

/** Runs on the swarm's tick: VMs whose first boot just finished try their join. */
export function processJoins(world: World, sim: SwarmSim): void {
  const sw = world.swarm;
  if (!sw) return;
  const st = joinState(world);
  for (const vm of world.vms.values()) {
    if (!vm.firstBoot || !vm.addressed || st.tried.has(vm) || sw.nodes.has(vm.spec.name)) continue;
    const cmd = vm.firstBoot.map((c) => JOIN.exec(c)).find(Boolean);
    if (!cmd) continue;
    st.tried.add(vm);
    const [, token, address] = cmd;
    const manager = [...sw.nodes.values()].find((n) => n.role === "manager" && n.address === address);
    if (!manager || !sim.nodeAlive(manager)) {
      st.failures.set(vm.spec.name, `Error response from daemon: rpc error: code = Unavailable desc = connection error: dial tcp ${address}:2377: connect: connection refused`);
      continue;
    }
    const role = token === sw.tokens.worker ? "worker" : token === sw.tokens.manager ? "manager" : null;
    if (!role) {
      st.failures.set(vm.spec.name, "Error response from daemon: rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster");
      continue;
    }
    const stuck = st.stuck.has(vm.spec.name) || st.stuck.has("all");
    const node: SwarmNodeState = {
      id: randomDockerId(),
      hostname: vm.spec.name,
      role,
      availability: "active",
      // A joining node is reported down until its first heartbeat; a stuck one never sends it.
      engineUp: false,
      silentSince: null,
      status: "down",
      address: vm.spec.nics[0]?.ip ?? "",
    };
    sw.nodes.set(node.hostname, node);
    // The images the swarm's services run reach a new node as they reached the others (the registry the lab leaves out).
    const images = stackState(sw).images;
    images.set(node.hostname, new Set([...(images.get(node.hostname) ?? []), ...LAB_BASE_IMAGES, ...[...sw.services.values()].map((x) => normalizeImage(x.spec.image))]));
    if (!stuck) world.clock.after(JOIN_READY_MS, () => void (node.engineUp = true));
    world.changed(sim.manager.hostname, "swarm");
  }
}

/** The lab's `docker node …`, `docker swarm join-token --rotate` and `docker swarm leave` for the swarm VM `host`. */
export function labSwarmNodes(world: World, host: string, asManager: () => void): SwarmNodesDriver {
  // Read at each call: the swarm can be torn down and created again (swarm-lifecycle.ts).
  const sw = () => world.swarm!;
  const sim = () => world.swarmSim!;
  const find = (ref: string) => sw().nodes.get(ref) ?? [...sw().nodes.values()].find((n) => n.id === ref) ?? null;
  return {
    update: async (p: SwarmNodeUpdateParams) => {
      asManager();
      sim().requireManager();
      const n = find(p.node);
      if (!n) throw notFound(`swarm node ${p.node}`);
      applyUpdate(world, sw(), sim(), n, p);
      world.changed(sim().manager.hostname, "swarm");
    },
    rotateToken: async (role) => {
      asManager();
      sim().requireManager();
      sw().tokens = { ...sw().tokens, [role]: swarmJoinTokens()[role] };
    },
    leave: async () => {
      const self = world.swarm?.nodes.get(host);
      if (!self || !self.engineUp) return;
      if (self.role === "manager") throw conflict(`docker on ${host}: You are attempting to leave the swarm on a node that is participating as a manager. Use --force to ignore this message.`);
      // The manager sees it down after its heartbeat timeout, as with dockerd stopped; `node rm` follows.
      self.engineUp = false;
      world.changed(sim().manager.hostname, "swarm");
    },
  };
}

function applyUpdate(world: World, sw: SwarmState, sim: SwarmSim, n: SwarmNodeState, p: SwarmNodeUpdateParams) {
  const managers = [...sw.nodes.values()].filter((m) => m.role === "manager");
  switch (p.action) {
    case "label":
      joinState(world).labels.set(n.hostname, { ...joinState(world).labels.get(n.hostname), ...p.labels });
      return;
    case "promote":
      n.role = "manager";
      return;
    case "demote": {
      if (n.role !== "manager") return;
      const up = managers.filter((m) => sim.nodeAlive(m)).length;
      if (managers.length <= 1) throw new AgentError(AgentErrorCode.conflict, `docker: Error response from daemon: rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm`);
      if (up - 1 < quorumView(managers.length - 1).majority)
        throw new AgentError(AgentErrorCode.conflict, `docker: Error response from daemon: rpc error: code = FailedPrecondition desc = can't remove ${n.hostname} from the raft: this would result in a loss of quorum`);
      n.role = "worker";
      return;
    }
    case "remove": {
      if (n.role === "manager") throw new AgentError(AgentErrorCode.conflict, `docker: Error response from daemon: rpc error: code = FailedPrecondition desc = node ${n.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
      sw.nodes.delete(n.hostname);
      joinState(world).labels.delete(n.hostname);
      // Its tasks are orphaned; the scheduler starts replacements on the nodes left.
      for (const t of sw.tasks) if (t.node === n.hostname && t.desiredState === "running") Object.assign(t, { desiredState: "shutdown", state: "orphaned" });
      return;
    }
  }
}

/** The nodes that still have room (swarm-nodes-full marks the others). */
export const withRoom = (world: World, nodes: SwarmNodeState[]): SwarmNodeState[] => nodes.filter((n) => !joinState(world).full.has(n.hostname));

/**
 * The scheduler's view of a replicated service short of tasks: when ready nodes exist but none
 * has room, the missing tasks wait as pending ("no suitable node"), as dockerd leaves them.
 */
export function notePending(world: World, manager: string, service: string, missing: number, withRoomCount: number, readyCount: number): void {
  const st = joinState(world);
  const want = missing > 0 && withRoomCount === 0 && readyCount > 0 ? missing : 0;
  if ((st.pending.get(service) ?? 0) === want) return;
  if (want) st.pending.set(service, want);
  else st.pending.delete(service);
  world.changed(manager, "swarm");
}

/** Pending tasks as the manager lists them. */
export function pendingTasks(world: World, sw: SwarmState): SwarmTask[] {
  const full = [...sw.nodes.values()].filter((n) => n.status === "ready").length;
  return [...joinState(world).pending.entries()].flatMap(([service, count]) => {
    const svc = sw.services.get(service);
    if (!svc) return [];
    return Array.from({ length: count }, (_, i) => ({
      id: `pending-${svc.id}-${i}`.slice(0, 64),
      serviceId: svc.id,
      serviceName: service,
      slot: null,
      node: null,
      desiredState: "running",
      state: "pending",
      error: `no suitable node (insufficient resources on ${full} node${full === 1 ? "" : "s"})`,
    }));
  });
}
