import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import { HostName } from "../names.js";
import type { SwarmNode, SwarmTask } from "../inventory.js";
import { DEFAULT_POLICY, capacityChecks, hostAvailabilityCheck, rankDestinations, rankingReason, type PreflightCheck, type PreflightPolicy } from "../preflight.js";
import { mountTargetOf, type DatastoreCapacity } from "../storage-plan/datastores.js";
import { DISK_GIB, FirstBootCommand, InstanceName, MEMORY_MIB, SSH_MAX_KEYS, VCPUS } from "../provision/request.js";
import { SshPublicKey } from "../provision/ssh-key.js";
import { ImageName, diskSizeProblem, imageRepositoryIndex, type ImageEntry } from "../provision/image.js";
import { nameTaken, type PendingCreate, type PlacementCandidate } from "../provision/placement.js";
import { CreateInstanceParams } from "../provision/params.js";
import { createSteps, pendingStep, type OperationStep } from "../provision/steps.js";
import { SwarmJoinToken } from "./nodes.js";

/**
 * Workers (and a first manager) built as instances: the create machinery's volume, domain and
 * cleanup, on the swarm's own network, with first-boot commands that mount the datastore's export
 * through the storage VIP and join (or initialise) the swarm.
 */
const int = (what: string, min: number, max: number) => z.number({ error: `${what} is a number` }).int({ error: `${what} is a whole number` }).min(min, { error: `${what} is at least ${min}` }).max(max, { error: `${what} is at most ${max}` });

export const AddWorkerRequest = z.object({
  name: InstanceName,
  image: ImageName.default("debian-12"),
  vcpus: int("vCPUs", VCPUS.min, VCPUS.max).default(2),
  memoryMiB: int("memory", MEMORY_MIB.min, MEMORY_MIB.max).default(2048),
  diskGiB: int("disk size", DISK_GIB.min, DISK_GIB.max).default(20),
  /** Pin the hypervisor; placement chooses otherwise. */
  host: HostName.optional(),
  /** How long the new node may take to join and become Ready before the VM is deleted again. */
  joinTimeoutSeconds: int("the join timeout", 10, 3600).default(600),
  /** Keys for root on the node, as for any created instance (an operator logs in to look at docker). */
  sshKeys: z.array(SshPublicKey, { error: "SSH keys are a list of lines" }).max(SSH_MAX_KEYS, { error: `at most ${SSH_MAX_KEYS} SSH keys` }).default([]),
  /**
   * The swarm's network, when the manager is not a VM Nimbus sees (a machine of its own): the
   * bridge (and VLAN on Open vSwitch) whose network reaches the manager's 2377/tcp.
   */
  network: z
    .object({
      bridge: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, "bridge names are up to 15 letters, digits, '.', '_' and '-'"),
      vlan: int("the VLAN", 1, 4094).nullable().default(null),
    })
    .optional(),
});
export type AddWorkerRequest = z.infer<typeof AddWorkerRequest>;

/** Create swarm: the first manager, built the same way, runs `docker swarm init`. */
export const CreateSwarmRequest = AddWorkerRequest.omit({ network: true }).extend({
  /** The bridge (and VLAN on Open vSwitch) the swarm's VMs live on. */
  bridge: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, "bridge names are up to 15 letters, digits, '.', '_' and '-'"),
  vlan: int("the VLAN", 1, 4094).nullable().default(null),
});
export type CreateSwarmRequest = z.infer<typeof CreateSwarmRequest>;

/** Where the swarm's VMs are plugged: the bridge of the manager's VM (and its VLAN, if tagged). */
export interface SwarmNetwork {
  bridge: string;
  vlan: number | null;
}

/** The manager's VM in the inventory (same name as its swarm hostname), and the network it is on. */
export function swarmNetwork(hosts: readonly HostRecord[], managerHostname: string): SwarmNetwork | null {
  for (const h of hosts)
    for (const d of h.inventory.virt?.domains ?? [])
      if (d.name === managerHostname && d.nics[0]) return { bridge: d.nics[0].bridge, vlan: d.nics[0].vlan };
  return null;
}

/** The storage VIP clients mount exports through. */
export function storageVip(hosts: readonly HostRecord[]): string | null {
  for (const h of hosts) {
    const vip = h.inventory.storage?.nfs?.vip?.address;
    if (vip) return vip;
  }
  return null;
}

/** A create's candidate without tenant wiring (a swarm VM has none). */
export type WorkerCandidate = Omit<PlacementCandidate, "wiring">;
export interface WorkerPlacement {
  chosen: WorkerCandidate | null;
  reason: string;
  candidates: WorkerCandidate[];
}

/**
 * Placement of a swarm VM: the create rules (online, not in maintenance, RAM after headroom,
 * vCPU overcommit, the image's datastore mounted) plus the swarm's bridge on the host. Ranked
 * like migration destinations; a pinned host passes the same checks.
 */
export function placeWorker(input: {
  request: Pick<AddWorkerRequest, "name" | "vcpus" | "memoryMiB" | "diskGiB" | "host">;
  image: Pick<ImageEntry, "name" | "datastore" | "virtualSizeBytes">;
  network: SwarmNetwork;
  hosts: readonly HostRecord[];
  datastores: readonly DatastoreCapacity[];
  pending?: readonly PendingCreate[];
  policy?: PreflightPolicy;
}): WorkerPlacement {
  const { request, image, network } = input;
  const pending = input.pending ?? [];
  const hypervisors = input.hosts.filter((h) => !!h.inventory.virt || h.connection.capabilities.includes("virt") || h.name === request.host);
  const evaluated = hypervisors.map((h) => {
    const held = pending.filter((p) => p.host === h.name);
    const need = { memoryMiB: request.memoryMiB + held.reduce((s, p) => s + p.memoryMiB, 0), vcpus: request.vcpus + held.reduce((s, p) => s + p.vcpus, 0) };
    const checks = [hostAvailabilityCheck(h, "Host"), ...capacityChecks(h, need, input.policy ?? DEFAULT_POLICY)];
    const mountTarget = mountTargetOf(image.datastore, h.inventory.storage?.mounts ?? []);
    checks.push(
      mountTarget
        ? { id: "datastore", label: "Datastore", result: "pass", reason: `${image.datastore} mounted at ${mountTarget}` }
        : { id: "datastore", label: "Datastore", result: "fail", reason: `${h.name} does not mount ${image.datastore}, where image ${image.name} is` },
    );
    const br = h.inventory.net?.bridges.find((b) => b.name === network.bridge) ?? null;
    const bridgeCheck: PreflightCheck = !br
      ? { id: "bridge", label: "Swarm network", result: "fail", reason: `${h.name} has no bridge ${network.bridge}, the swarm's network` }
      : br.type === "ovs" && network.vlan === null
        ? { id: "bridge", label: "Swarm network", result: "fail", reason: `the swarm is untagged on Open vSwitch bridge ${br.name}; Nimbus tags the ports it creates, so put the swarm on a VLAN` }
        : { id: "bridge", label: "Swarm network", result: "pass", reason: `${br.name} (${br.type})${network.vlan !== null ? ` VLAN ${network.vlan}` : ""}` };
    checks.push(bridgeCheck);
    return { host: h, checks, extra: { bridge: br ? { name: br.name, type: br.type } : null, mountTarget } };
  });
  const extra = new Map(evaluated.map((e) => [e.host.name, e.extra]));
  const candidates: WorkerCandidate[] = rankDestinations(evaluated).map((r) => ({ ...r, ...extra.get(r.host)! }));
  const blocked = nameTaken(request.name, input.hosts, pending) ?? diskSizeProblem(request.diskGiB, image);
  if (blocked) return { chosen: null, reason: blocked, candidates };
  const failing = (c: WorkerCandidate) => c.checks.filter((k) => k.result === "fail").map((k) => k.reason).join("; ");
  if (request.host) {
    const pinned = candidates.find((c) => c.host === request.host);
    if (!pinned) return { chosen: null, reason: `host ${request.host} is not a hypervisor of the fleet`, candidates };
    if (pinned.verdict === "fail") return { chosen: null, reason: `${pinned.host} (pinned): ${failing(pinned)}`, candidates };
    return { chosen: pinned, reason: `pinned to ${pinned.host}; ${rankingReason(pinned, request.memoryMiB, 1)}`, candidates };
  }
  const best = candidates[0];
  if (!best) return { chosen: null, reason: "no hypervisor in the fleet", candidates };
  if (best.verdict === "fail") return { chosen: null, reason: `no hypervisor fits; ${best.host}: ${failing(best)}`, candidates };
  return { chosen: best, reason: rankingReason(best, request.memoryMiB, candidates.length), candidates };
}

const Address = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.:-]{0,62}$/, "an address or host name");
const ExportPath = z.string().regex(/^\/[A-Za-z0-9_./-]{0,255}$/, "an export path").refine((p) => !p.split("/").includes(".."), "no '..'");

/** The datastore export mounted through the VIP at first boot, so the VM sees the shared files. */
export const SWARM_MOUNT_POINT = "/mnt/nimbus";

function mountCommand(vip: string, exportPath: string): string {
  const src = `${Address.parse(vip)}:${ExportPath.parse(exportPath)}`;
  return `mkdir -p ${SWARM_MOUNT_POINT} && mount -t nfs4 ${src} ${SWARM_MOUNT_POINT} && echo '${src} ${SWARM_MOUNT_POINT} nfs4 defaults,_netdev 0 0' >> /etc/fstab`;
}

/** First boot of a worker: mount the export through the VIP, then join with the token of this moment. */
export function workerFirstBoot(o: { vip: string; exportPath: string; managerAddress: string; token: string }): string[] {
  const join = `docker swarm join --token ${SwarmJoinToken.parse(o.token)} ${Address.parse(o.managerAddress)}:2377`;
  return [mountCommand(o.vip, o.exportPath), join].map((c) => FirstBootCommand.parse(c));
}

/** First boot of the first manager: mount, then `docker swarm init` on the guest's own address. */
export function managerFirstBoot(o: { vip: string; exportPath: string }): string[] {
  return [mountCommand(o.vip, o.exportPath), `docker swarm init --advertise-addr "$(hostname -I | cut -d' ' -f1)"`].map((c) => FirstBootCommand.parse(c));
}

/** The swarm manager address a worker joins: the leader's address as the swarm reports it. */
export function joinAddress(nodes: readonly SwarmNode[]): string | null {
  const leader = nodes.find((n) => n.role === "manager" && n.leader && n.address) ?? nodes.find((n) => n.role === "manager" && n.address);
  return leader?.address ?? null;
}

/** The create job of a swarm VM: untenanted, on the swarm's bridge, no tenant wiring. */
export function swarmVmParams(
  jobId: string,
  request: Pick<AddWorkerRequest, "name" | "vcpus" | "memoryMiB" | "diskGiB"> & { sshKeys?: readonly string[] },
  image: Pick<ImageEntry, "name" | "os">,
  chosen: Pick<WorkerCandidate, "mountTarget" | "bridge">,
  network: SwarmNetwork,
  firstBoot: string[],
): CreateInstanceParams {
  if (!chosen.mountTarget || !chosen.bridge) throw new Error("the chosen host has no mount of the image's datastore or no swarm bridge");
  const root = chosen.mountTarget.replace(/\/+$/, "");
  return CreateInstanceParams.parse({
    jobId,
    name: request.name,
    tenant: null,
    image: { name: image.name, os: image.os, repositoryIndex: imageRepositoryIndex(root) },
    volumePath: `${root}/${request.name}.qcow2`,
    vcpus: request.vcpus,
    memoryMiB: request.memoryMiB,
    diskGiB: request.diskGiB,
    // A Linux bridge applies no VLAN without a port-vlan action (none here): the VM sits untagged beside the manager.
    nic: { bridge: chosen.bridge.name, bridgeType: chosen.bridge.type, vlan: network.vlan ?? 1 },
    wiring: [],
    sshKeys: request.sshKeys ?? [],
    firstBoot,
  });
}

const step = pendingStep;

/** The steps of add-worker (and of create swarm): the token, the create's own steps, the join, the label. */
export function addWorkerSteps(params: Pick<CreateInstanceParams, "name" | "image" | "volumePath" | "diskGiB" | "nic" | "wiring">, role: "worker" | "manager", manager: string | null): OperationStep[] {
  return [
    role === "worker"
      ? step("token", "Fetch the join token", `ask ${manager ?? "a manager"} for the worker join token (kept in memory only, never recorded)`)
      : step("token", "Check for a swarm", "no swarm is reported by any host; the new VM initialises one"),
    ...createSteps(params),
    step("join", role === "worker" ? "Wait until the node is Ready" : "Wait for the swarm", role === "worker" ? `${params.name} joins at first boot; wait until the swarm reports it Ready and active` : `${params.name} runs docker swarm init at first boot; wait until a manager reports the swarm`),
    step("label", "Label the node", `docker node update --label-add nimbus.managed=true ${params.name}`),
  ];
}

/** Remove-worker's steps. */
export function removeWorkerSteps(node: string, vm: { host: string } | null, leaveOn: string | null): OperationStep[] {
  return [
    step("drain", "Drain", `docker node update --availability drain ${node}`),
    step("tasks-moved", "Wait for its tasks to move", `until no task of ${node} is meant to run there`),
    step("leave", "Leave the swarm", leaveOn ? `docker swarm leave on ${leaveOn}` : `${node} has no Nimbus agent: skipped (the VM is deleted next)`),
    step("node-rm", "Remove the node", `docker node rm --force ${node} on a manager`),
    step("delete-vm", "Delete the VM and its volume", vm ? `${node} on ${vm.host}` : `no VM named ${node} in the inventory: nothing to delete`),
  ];
}

/** Tasks a node holds that must move: meant to run, of replicated services (a global service's task simply ends). */
export const tasksToMove = (node: SwarmNode, tasks: readonly SwarmTask[], globalServices: ReadonlySet<string>): SwarmTask[] =>
  tasks.filter((t) => (t.node === node.hostname || t.node === node.id) && t.desiredState === "running" && !globalServices.has(t.serviceName));

/** Tasks one node takes, by its memory: 512 MiB a task (no reservations are reported to size them better). */
export const TASK_MEMORY_MIB = 512;
export const DEFAULT_NODE_MEMORY_MIB = 4096;

/**
 * The capacity rule of remove-worker: null when the rest of the swarm can hold the node's tasks,
 * else why not. A node holds floor(memory / 512 MiB) tasks (its VM's memory when Nimbus sees the
 * VM, else 4 GiB); the ready and active nodes left must have that many free slots for the
 * replicated tasks it runs. Managers are not removed this way (demote first), and the last node
 * that accepts tasks is never removed.
 */
export function removeWorkerProblem(o: {
  node: string;
  nodes: readonly SwarmNode[];
  tasks: readonly SwarmTask[];
  globalServices: ReadonlySet<string>;
  vmMemoryMiB: (hostname: string) => number | null;
}): string | null {
  const target = o.nodes.find((n) => n.hostname === o.node || n.id === o.node);
  if (!target) return `swarm node ${o.node} not found`;
  if (target.role === "manager") return `${target.hostname} is a manager: demote it first (a manager leaving changes the quorum)`;
  const others = o.nodes.filter((n) => n !== target && n.status === "ready" && n.availability === "active");
  const moving = tasksToMove(target, o.tasks, o.globalServices).length;
  if (!others.length) return `${target.hostname} is the last node that is ready and active: its ${moving} task${moving === 1 ? "" : "s"} would have nowhere to run`;
  const slots = (n: SwarmNode) => Math.max(1, Math.floor((o.vmMemoryMiB(n.hostname) ?? DEFAULT_NODE_MEMORY_MIB) / TASK_MEMORY_MIB));
  const load = (n: SwarmNode) => o.tasks.filter((t) => (t.node === n.hostname || t.node === n.id) && t.desiredState === "running").length;
  const free = others.reduce((s, n) => s + Math.max(0, slots(n) - load(n)), 0);
  if (moving > free)
    return `the other ${others.length} ready node${others.length === 1 ? "" : "s"} have room for ${free} more task${free === 1 ? "" : "s"} (${TASK_MEMORY_MIB} MiB each), ${target.hostname} runs ${moving}: add a worker first`;
  return null;
}
