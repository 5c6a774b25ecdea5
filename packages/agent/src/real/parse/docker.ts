import { z } from "zod";
import { httpCheckFromLabels, TenantSlug, type SwarmNode, type SwarmSection, type SwarmService, type SwarmTask } from "@nimbus/domain";
import { envDigest } from "@nimbus/domain/stack-env";
import { quote, unparseable } from "../../errors.js";
import { check, integer, parseJsonLines, parseJsonWith } from "./text.js";

/** docker CLI output: `--format '{{json .}}'` lines and `inspect` arrays. */

export const TENANT_LABEL = "nimbus.tenant";
export const STACK_LABEL = "com.docker.stack.namespace";

const InfoJson = z.looseObject({
  Name: z.string(),
  Swarm: z.looseObject({
    NodeID: z.string(),
    NodeAddr: z.string().optional(),
    LocalNodeState: z.string(),
    ControlAvailable: z.boolean().optional(),
    Cluster: z.looseObject({ ID: z.string() }).nullish(),
  }),
});

export interface DockerInfo {
  name: string;
  nodeId: string;
  nodeAddr: string | null;
  /** "active" once part of a swarm; "inactive", "pending", "error", "locked" otherwise. */
  swarmState: string;
  manager: boolean;
  clusterId: string | null;
}

/** `docker info --format '{{json .}}'` */
export function parseDockerInfo(text: string): DockerInfo {
  const info = parseJsonWith(InfoJson, "docker info", text);
  return {
    name: info.Name,
    nodeId: info.Swarm.NodeID,
    nodeAddr: info.Swarm.NodeAddr || null,
    swarmState: info.Swarm.LocalNodeState,
    manager: info.Swarm.ControlAvailable === true,
    clusterId: info.Swarm.Cluster?.ID ?? null,
  };
}

const NodeLsJson = z.looseObject({
  ID: z.string(),
  Hostname: z.string(),
  Availability: z.string(),
  Status: z.string(),
  ManagerStatus: z.string(),
  EngineVersion: z.string().optional(),
  Self: z.boolean().optional(),
});

const lower = <T extends string>(tool: string, allowed: readonly T[], value: string, text: string): T => {
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) throw unparseable(tool, `unknown value ${quote(value)}`, text);
  return v;
};

/** `docker node ls --format '{{json .}}'` (addresses come from `docker node inspect`). */
export function parseNodeLs(text: string): SwarmNode[] {
  const tool = "docker node ls";
  return parseJsonLines(tool, text).map((raw) => {
    const n = check(NodeLsJson, tool, raw, text);
    return {
      id: n.ID,
      hostname: n.Hostname,
      role: n.ManagerStatus ? "manager" : "worker",
      availability: lower(tool, ["active", "pause", "drain"] as const, n.Availability, text),
      status: lower(tool, ["ready", "down", "unknown", "disconnected"] as const, n.Status, text),
      leader: n.ManagerStatus === "Leader",
      engineVersion: n.EngineVersion || null,
      address: null,
    };
  });
}

const NodeInspectJson = z.array(
  z.looseObject({
    ID: z.string(),
    Status: z.looseObject({ State: z.string(), Addr: z.string().optional() }),
    ManagerStatus: z.looseObject({ Leader: z.boolean().optional(), Addr: z.string().optional() }).optional(),
  }),
);

/** `docker node inspect ID...`: each node's address. */
export function parseNodeAddresses(text: string): Map<string, string> {
  const nodes = parseJsonWith(NodeInspectJson, "docker node inspect", text);
  return new Map(nodes.filter((n) => n.Status.Addr).map((n) => [n.ID, n.Status.Addr!]));
}

const ServiceLsJson = z.looseObject({ ID: z.string(), Name: z.string(), Mode: z.string(), Replicas: z.string(), Image: z.string() });

export interface ListedService {
  id: string;
  name: string;
  mode: "replicated" | "global";
  running: number;
  desired: number;
  image: string;
}

/** `docker service ls --format '{{json .}}'`: Replicas is "running/desired" (plus notes such as "(max 2 per node)"). */
export function parseServiceLs(text: string): ListedService[] {
  const tool = "docker service ls";
  return parseJsonLines(tool, text).map((raw) => {
    const s = check(ServiceLsJson, tool, raw, text);
    const m = /^(\d{1,9})\/(\d{1,9})(?!\d)/.exec(s.Replicas);
    if (!m) throw unparseable(tool, `replicas ${quote(s.Replicas)} is not running/desired`, text);
    return {
      id: s.ID,
      name: s.Name,
      mode: s.Mode.startsWith("global") ? "global" : "replicated",
      running: integer(m[1])!,
      desired: integer(m[2])!,
      image: s.Image,
    };
  });
}

const PortJson = z.looseObject({
  Protocol: z.enum(["tcp", "udp", "sctp"]).default("tcp"),
  TargetPort: z.number().int(),
  PublishedPort: z.number().int().default(0),
  PublishMode: z.enum(["ingress", "host"]).default("ingress"),
});
const ServiceInspectJson = z.array(
  z.looseObject({
    ID: z.string(),
    UpdatedAt: z.string().optional(),
    Spec: z.looseObject({
      Name: z.string(),
      Labels: z.record(z.string(), z.string()).nullish(),
      TaskTemplate: z.looseObject({ ContainerSpec: z.looseObject({ Env: z.array(z.string()).nullish() }).nullish() }).nullish(),
    }),
    Endpoint: z.looseObject({ Ports: z.array(PortJson).nullish() }).optional(),
  }),
);

export interface ServiceDetails {
  labels: Record<string, string>;
  ports: SwarmService["ports"];
  updatedAt: string | null;
  /** Digest of the environment (envDigest), so a stack diff can tell it changed without a value. */
  envDigest: string;
}

/** `docker service inspect ID...`: labels (tenant, stack), published ports, last update. */
export function parseServiceInspect(text: string): Map<string, ServiceDetails> {
  const services = parseJsonWith(ServiceInspectJson, "docker service inspect", text);
  return new Map(
    services.map((s) => [
      s.ID,
      {
        labels: s.Spec.Labels ?? {},
        ports: (s.Endpoint?.Ports ?? []).map((p) => ({ published: p.PublishedPort, target: p.TargetPort, protocol: p.Protocol, mode: p.PublishMode })),
        updatedAt: s.UpdatedAt ?? null,
        envDigest: envDigest(s.Spec.TaskTemplate?.ContainerSpec?.Env ?? []),
      },
    ]),
  );
}

const TaskJson = z.looseObject({
  ID: z.string(),
  Name: z.string(),
  Node: z.string(),
  DesiredState: z.string(),
  CurrentState: z.string(),
  Error: z.string(),
  Image: z.string().optional(),
});

/**
 * `docker service ps --no-trunc --format '{{json .}}' SERVICE...`. Task names are
 * "SERVICE.SLOT" (replicated) or "SERVICE.NODEID" (global), with a "\_ " prefix on history rows;
 * CurrentState is "Running 57 seconds ago": the first word is the state.
 */
export function parseServicePs(text: string, serviceIds: Map<string, string>): SwarmTask[] {
  const tool = "docker service ps";
  return parseJsonLines(tool, text).map((raw) => {
    const t = check(TaskJson, tool, raw, text);
    const name = t.Name.replace(/^\s*\\_\s*/, "");
    const dot = name.lastIndexOf(".");
    if (dot <= 0) throw unparseable(tool, `task name ${quote(t.Name)} is not SERVICE.SLOT`, text);
    const serviceName = name.slice(0, dot);
    const suffix = name.slice(dot + 1);
    return {
      id: t.ID,
      serviceId: serviceIds.get(serviceName) ?? serviceName,
      serviceName,
      slot: integer(suffix),
      node: t.Node || null,
      desiredState: t.DesiredState.toLowerCase(),
      state: (t.CurrentState.split(" ")[0] ?? "").toLowerCase(),
      error: t.Error || null,
      image: t.Image || null,
    };
  });
}

export interface SwarmParts {
  info: DockerInfo;
  nodes: SwarmNode[];
  addresses: Map<string, string>;
  services: ListedService[];
  details: Map<string, ServiceDetails>;
  tasks: SwarmTask[];
}

/** `service ls` prints short ids, `inspect` full ones: the full id is the service's id. */
export function detailsOf(details: Map<string, ServiceDetails>, shortId: string): [string, ServiceDetails | undefined] {
  for (const [id, d] of details) if (id.startsWith(shortId)) return [id, d];
  return [shortId, undefined];
}

/**
 * Replicas of `service` that run, counted from its tasks rather than taken from `service ls`:
 * docker counts a task on a node that is down as still running (its last report), so a service
 * whose tasks were rescheduled off a dead node shows 4/3 there for as long as the node stays
 * down (seen in the real lab with docker 20.10). A replica runs when its task is meant to run,
 * runs, and is on a node that is not down (the rule docker's own CLI used before the daemon
 * counted). The snapshot and `swarm.scale` both count with this.
 */
export function runningReplicas(tasks: SwarmTask[], nodes: SwarmNode[], service: string): number {
  return liveTasks(tasks, nodes, service).filter((t) => t.desiredState === "running").length;
}

/**
 * Tasks told to stop that still run on a live node: a scale down marks them "remove" (swarmkit
 * since 2019), an update or a drain "shutdown". docker keeps counting them in `service ls` until
 * they have stopped, so a scale is not over while any remain.
 */
export function stoppingReplicas(tasks: SwarmTask[], nodes: SwarmNode[], service: string): number {
  return liveTasks(tasks, nodes, service).filter((t) => t.desiredState !== "running" && t.desiredState !== "accepted").length;
}

function liveTasks(tasks: SwarmTask[], nodes: SwarmNode[], service: string): SwarmTask[] {
  const downNodes = new Set(nodes.filter((n) => n.status === "down").map((n) => n.hostname));
  return tasks.filter((t) => t.serviceName === service && t.state === "running" && !(t.node && downNodes.has(t.node)));
}

/** `p.tasks` are all tasks meant to run (desired running or accepted) of all `p.services`. */
export function buildSwarmSection(p: SwarmParts): SwarmSection {
  const tenantOf = (labels: Record<string, string>) => {
    const t = labels[TENANT_LABEL];
    return t && TenantSlug.safeParse(t).success ? t : null;
  };
  const runningOf = (service: string) => runningReplicas(p.tasks, p.nodes, service);
  return {
    nodeId: p.info.nodeId,
    role: p.info.manager ? "manager" : "worker",
    clusterId: p.info.clusterId,
    nodes: p.nodes.map((n) => ({ ...n, address: p.addresses.get(n.id) ?? n.address })),
    services: p.services.map((s) => {
      const [id, d] = detailsOf(p.details, s.id);
      return {
        id,
        name: s.name,
        mode: s.mode,
        replicasDesired: s.desired,
        replicasRunning: runningOf(s.name),
        image: s.image,
        ports: d?.ports ?? [],
        tenant: tenantOf(d?.labels ?? {}),
        stack: d?.labels[STACK_LABEL] ?? null,
        updatedAt: d?.updatedAt ?? null,
        envDigest: d?.envDigest ?? null,
        httpCheck: httpCheckFromLabels(d?.labels ?? {}),
      };
    }),
    tasks: p.tasks,
  };
}
