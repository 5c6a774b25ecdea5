import { z } from "zod";
import { LIMITS, boundedName, boundedText } from "./bounds.js";
import type { Bridge, Domain, DomainState } from "./inventory.js";
import type { HostRecord } from "./fleet.js";
import { DomainName, HostName, VlanId } from "./names.js";
import { committedMemoryMiB, committedVcpus, observedState } from "./views.js";

/**
 * Migration preflight: everything that must hold before a running VM moves. Each check passes,
 * warns or fails with a reason a person can act on. The same rule runs in the dialog (to rank
 * destinations) and again on the server when the migration starts.
 */
export type CheckResult = "pass" | "warn" | "fail";
export interface PreflightCheck {
  id: string;
  label: string;
  result: CheckResult;
  reason: string;
}

export interface PreflightPolicy {
  /** RAM kept free on a destination for the host itself, in MiB. */
  memoryHeadroomMiB: number;
  /** vCPUs per physical CPU before a warning. */
  cpuOvercommit: number;
}
export const DEFAULT_POLICY: PreflightPolicy = { memoryHeadroomMiB: 512, cpuOvercommit: 4 };

export interface PreflightInput {
  domain: Domain;
  source: HostRecord;
  destination: HostRecord;
  /** VNI of the VM's tenant, if it has one. */
  tenantVni: number | null;
  /** Names of instances that already have an operation running. */
  busyInstances: ReadonlySet<string>;
  policy?: PreflightPolicy;
}

const VXLAN_OVERHEAD = 50;

export function preflight(input: PreflightInput): PreflightCheck[] {
  const { domain, source, destination, tenantVni } = input;
  const policy = input.policy ?? DEFAULT_POLICY;
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, result: CheckResult, reason: string) => checks.push({ id, label, result, reason });

  if (destination.name === source.name) add("reachable", "Destination", "fail", "the VM already runs on this host");
  else checks.push(hostAvailabilityCheck(destination, "Destination"));

  const sourceConn = source.connection;
  if (observedState(sourceConn.state, domain.state) === "unknown")
    add(
      "state",
      "VM state",
      "fail",
      `${domain.name}'s state is unknown: its host ${source.name} is ${sourceConn.state}${sourceConn.message ? ` (${sourceConn.message})` : ""}; it cannot move until ${source.name} answers again`,
    );
  else if (domain.state !== "running") add("state", "VM state", "fail", `${domain.name} is ${domain.state}; only running VMs live-migrate`);
  else if (input.busyInstances.has(domain.name)) add("state", "VM state", "fail", `${domain.name} already has an operation running`);
  else add("state", "VM state", "pass", "running, no other operation");

  checks.push(...capacityChecks(destination, domain, policy));
  const node = destination.inventory.node;
  if (node) {
    const missing = domain.cpuFeatures.filter((f) => !node.cpuFeatures.includes(f));
    if (domain.cpuModel && domain.cpuModel !== "host-passthrough" && missing.length)
      add("cpu-compat", "CPU compatibility", "fail", `${destination.name} lacks CPU features ${missing.join(", ")}`);
    else if (domain.cpuModel === "host-passthrough" && source.inventory.node?.cpuModel !== node.cpuModel)
      add("cpu-compat", "CPU compatibility", "fail", `host-passthrough VM; CPU models differ (${source.inventory.node?.cpuModel ?? "?"} vs ${node.cpuModel})`);
    else add("cpu-compat", "CPU compatibility", "pass", domain.cpuModel ? `model ${domain.cpuModel} supported` : "default CPU model");
  }

  const mounts = destination.inventory.storage?.mounts ?? [];
  const unshared = domain.disks.filter((d) => !mounts.some((m) => d.path === m.target || d.path.startsWith(m.target.replace(/\/?$/, "/"))));
  if (unshared.length) add("storage", "Shared storage", "fail", `storage migration needed: ${unshared.map((d) => d.path).join(", ")} not on a datastore mounted on ${destination.name}`);
  else add("storage", "Shared storage", "pass", domain.disks.length ? `disks on ${[...new Set(domain.disks.map((d) => mountOf(d.path, mounts)))].join(", ")}` : "no disks");

  const bridges = destination.inventory.net?.bridges ?? [];
  for (const nic of domain.nics) {
    const fit = bridgeFit(destination.name, bridges, nic);
    add(`net-${nic.mac}`, `NIC ${nic.mac}`, fit.ok ? "pass" : "fail", fit.reason);
  }

  if (tenantVni !== null) {
    const br = bridges.find((b) => b.ports.some((p) => p.vxlan?.vni === tenantVni));
    const short = br ? vxlanMtuShortfall(destination, br) : null;
    if (!br) add("vni", "Tenant VNI", "fail", `VNI ${tenantVni} is not present on ${destination.name}`);
    else if (short) add("vni", "Tenant VNI", "warn", `VNI ${tenantVni} present, but uplink MTU ${short.uplinkMtu} < ${short.needed} needed for VXLAN`);
    else add("vni", "Tenant VNI", "pass", `VNI ${tenantVni} tunnelled on ${destination.name}`);
  }
  return checks;
}

/**
 * Whether a host can take a VM at all: online with a trusted key, not in maintenance, a
 * hypervisor. Shared by migration destinations and the placement of new instances.
 */
export function hostAvailabilityCheck(host: HostRecord, label: string): PreflightCheck {
  const conn = host.connection;
  const check = (result: CheckResult, reason: string): PreflightCheck => ({ id: "reachable", label, result, reason });
  if (conn.state === "key-changed") return check("fail", `${host.name}'s host key changed; an admin must accept it first`);
  if (conn.state !== "online") return check("fail", `${host.name} is ${conn.state}${conn.message ? `: ${conn.message}` : ""}`);
  if (host.maintenance) return check("fail", `${host.name} is in maintenance`);
  if (!host.inventory.virt) return check("fail", `${host.name} is not a hypervisor`);
  return check("pass", `${host.name} is online with a trusted key`);
}

/**
 * RAM (a hard limit, after the host's headroom) and vCPUs (overcommit is a warning) of a host
 * receiving a VM of this size. The running domains of `host` count as committed: callers add
 * VMs planned or being created there as running domains of a copy of the host.
 */
export function capacityChecks(host: HostRecord, need: { memoryMiB: number; vcpus: number }, policy: PreflightPolicy = DEFAULT_POLICY): PreflightCheck[] {
  const node = host.inventory.node;
  if (!node) return [{ id: "memory", label: "Memory", result: "fail", reason: `${host.name} has not reported its memory` }];
  const free = node.memoryTotalMiB - committedMemoryMiB(host) - policy.memoryHeadroomMiB;
  const vcpus = committedVcpus(host) + need.vcpus;
  const limit = node.cpuCount * policy.cpuOvercommit;
  return [
    {
      id: "memory",
      label: "Memory",
      result: free >= need.memoryMiB ? "pass" : "fail",
      reason: `needs ${need.memoryMiB} MiB; ${Math.max(0, Math.floor(free))} MiB free after ${policy.memoryHeadroomMiB} MiB headroom`,
    },
    { id: "cpu", label: "vCPUs", result: vcpus <= limit ? "pass" : "warn", reason: `${vcpus} vCPUs on ${node.cpuCount} CPUs (overcommit limit ${policy.cpuOvercommit}:1)` },
  ];
}

export interface NicNeed {
  bridge: string;
  bridgeType: "linux" | "ovs";
  vlan: number | null;
}

/** How a NIC fits a host's bridges; `problem` lets a caller that can wire the network tell what is missing. */
export type BridgeFit =
  | { ok: true; bridge: Pick<Bridge, "name" | "type" | "ports">; reason: string }
  | { ok: false; problem: "missing" | "type" | "vlan"; bridge: Pick<Bridge, "name" | "type" | "ports"> | null; reason: string };

export function bridgeFit(host: string, bridges: readonly Pick<Bridge, "name" | "type" | "ports">[], nic: NicNeed): BridgeFit {
  const br = bridges.find((b) => b.name === nic.bridge);
  if (!br) return { ok: false, problem: "missing", bridge: null, reason: `bridge ${nic.bridge} does not exist on ${host}` };
  if (br.type !== nic.bridgeType) return { ok: false, problem: "type", bridge: br, reason: `${nic.bridge} is a ${br.type} bridge on ${host}, the VM needs ${nic.bridgeType}` };
  if (nic.vlan !== null && !bridgeCarriesVlan(br, nic.vlan))
    return { ok: false, problem: "vlan", bridge: br, reason: `VLAN ${nic.vlan} is not carried by any trunk of ${nic.bridge} on ${host}` };
  return { ok: true, bridge: br, reason: `${nic.bridge}${nic.vlan !== null ? ` VLAN ${nic.vlan}` : ""} present` };
}

/** VXLAN adds 50 bytes: the host's smallest physical MTU must fit the bridge's MTU plus that, or large frames drop. */
export function vxlanMtuShortfall(host: HostRecord, bridge: Pick<Bridge, "mtu">): { uplinkMtu: number; needed: number } | null {
  const uplinkMtu = Math.min(...(host.inventory.net?.interfaces ?? []).filter((i) => i.kind === "physical" && i.mtu).map((i) => i.mtu!));
  const needed = (bridge.mtu ?? 1500) + VXLAN_OVERHEAD;
  return Number.isFinite(uplinkMtu) && uplinkMtu < needed ? { uplinkMtu, needed } : null;
}

/** Does a trunk or uplink of this bridge carry the VLAN? An empty trunk list carries every VLAN. */
export const bridgeCarriesVlan = (bridge: Pick<Bridge, "ports">, vlan: number): boolean =>
  bridge.ports.some((p) => (p.mode === "trunk" || p.mode === "uplink") && (p.trunks.length === 0 || p.trunks.includes(vlan)));

function mountOf(path: string, mounts: readonly { target: string }[]) {
  return mounts.find((m) => path.startsWith(m.target))?.target ?? path;
}

export const preflightVerdict = (checks: readonly PreflightCheck[]): CheckResult =>
  checks.some((c) => c.result === "fail") ? "fail" : checks.some((c) => c.result === "warn") ? "warn" : "pass";

/** Destinations ordered by fit: passing first, then by free memory. */
export function rankDestinations(
  candidates: readonly { host: HostRecord; checks: PreflightCheck[] }[],
): { host: string; verdict: CheckResult; freeMemoryMiB: number; checks: PreflightCheck[] }[] {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  return candidates
    .map(({ host, checks }) => ({
      host: host.name,
      verdict: preflightVerdict(checks),
      freeMemoryMiB: (host.inventory.node?.memoryTotalMiB ?? 0) - committedMemoryMiB(host),
      checks,
    }))
    .sort((a, b) => rank[a.verdict] - rank[b.verdict] || b.freeMemoryMiB - a.freeMemoryMiB || a.host.localeCompare(b.host));
}

/** Why the first of a ranking was chosen, in words the dialogs show. */
export function rankingReason(best: { host: string; verdict: CheckResult; freeMemoryMiB: number }, memoryMiB: number, candidates: number): string {
  const others = candidates - 1;
  return `${best.verdict === "pass" ? "every check passes" : "passes with warnings"}; ${best.freeMemoryMiB - memoryMiB} MiB left on ${best.host} after it${others ? `, the most of ${candidates} hosts` : ""}`;
}

/** The headroom policy in words, shown beside the memory and vCPU checks. */
export const describePolicy = (policy: PreflightPolicy = DEFAULT_POLICY): string =>
  `${policy.memoryHeadroomMiB} MiB of RAM stay free on every destination for the host itself; more than ${policy.cpuOvercommit} vCPUs per physical CPU is a warning`;

export const PreflightCheckSchema = z.object({
  id: boundedName(),
  label: boundedText(),
  result: z.enum(["pass", "warn", "fail"]),
  reason: boundedText(),
});

/**
 * The re-run of the preflight on the agents, right before a migration starts: the inventory the
 * server holds may be seconds old, the hosts know now. The source confirms the VM still runs and
 * is not migrating; the destination checks RAM, bridges/VLANs and disk paths as it sees them.
 */
export const AgentPreflightParams = z.discriminatedUnion("role", [
  z.object({ role: z.literal("source"), domain: DomainName, destination: HostName }),
  z.object({
    role: z.literal("destination"),
    domain: DomainName,
    source: HostName,
    memoryMiB: z.number().positive(),
    memoryHeadroomMiB: z.number().nonnegative(),
    nics: z.array(z.object({ mac: z.string().max(64), bridge: z.string().max(64), bridgeType: z.enum(["linux", "ovs"]), vlan: VlanId.nullable() })).max(64),
    diskPaths: z.array(z.string().max(1024)).max(64),
  }),
]);
export type AgentPreflightParams = z.infer<typeof AgentPreflightParams>;
export type DestinationPreflightParams = Extract<AgentPreflightParams, { role: "destination" }>;

export const AgentPreflightResult = z.object({ host: boundedName(), checks: z.array(PreflightCheckSchema).max(LIMITS.preflightChecks) });
export type AgentPreflightResult = z.infer<typeof AgentPreflightResult>;

/** What the source host sees of the VM right now. */
export interface SourceObservation {
  host: string;
  domain: string;
  /** null when the domain is not defined here (any more). */
  state: DomainState | null;
  /** A migration or block job is active on it. */
  migrating: boolean;
}

export function sourceAgentChecks(o: SourceObservation): PreflightCheck[] {
  const check = (result: CheckResult, reason: string): PreflightCheck[] => [{ id: "agent-source", label: `${o.host} (source, now)`, result, reason }];
  if (o.state === null) return check("fail", `${o.domain} is no longer defined on ${o.host}`);
  if (o.state !== "running") return check("fail", `${o.domain} is ${o.state} on ${o.host}; only running VMs live-migrate`);
  if (o.migrating) return check("fail", `${o.domain} already has a migration or block job running on ${o.host}`);
  return check("pass", `${o.host} confirms ${o.domain} is running with no job on it`);
}

/** What the destination host sees of itself right now. */
export interface DestinationObservation {
  host: string;
  /** RAM the host could give a new VM, in MiB (MemAvailable on a real host); null if unknown. */
  freeMemoryMiB: number | null;
  bridges: readonly Pick<Bridge, "name" | "type" | "ports">[];
  /** Disk paths whose directory this host cannot see (not mounted here). */
  missingPaths: readonly string[];
  /** State of a domain with the same name already defined here, if any. */
  existingState: DomainState | null;
}

export function destinationAgentChecks(req: DestinationPreflightParams, o: DestinationObservation): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, result: CheckResult, reason: string) => checks.push({ id, label: `${label} on ${o.host} (now)`, result, reason });

  if (o.existingState === "running" || o.existingState === "paused")
    add("agent-domain", "VM name", "fail", `a domain named ${req.domain} already runs on ${o.host}`);
  if (o.freeMemoryMiB === null) add("agent-memory", "Memory", "warn", `${o.host} could not report its free memory`);
  else {
    const free = Math.floor(o.freeMemoryMiB - req.memoryHeadroomMiB);
    add("agent-memory", "Memory", free >= req.memoryMiB ? "pass" : "fail", `needs ${req.memoryMiB} MiB; ${o.host} has ${Math.max(0, free)} MiB free after ${req.memoryHeadroomMiB} MiB headroom`);
  }
  for (const nic of req.nics) {
    const fit = bridgeFit(o.host, o.bridges, nic);
    add(`agent-net-${nic.mac}`, `NIC ${nic.mac}`, fit.ok ? "pass" : "fail", fit.reason);
  }
  if (o.missingPaths.length) add("agent-storage", "Shared storage", "fail", `storage migration needed: ${o.missingPaths.join(", ")} not visible on ${o.host}`);
  else add("agent-storage", "Shared storage", "pass", req.diskPaths.length ? `${o.host} sees every disk path` : "no disks");
  return checks;
}

/** The destination-side request built from the VM the server knows. */
export const destinationPreflightParams = (domain: Domain, source: string, policy: PreflightPolicy = DEFAULT_POLICY): DestinationPreflightParams => ({
  role: "destination",
  domain: domain.name,
  source,
  memoryMiB: domain.memoryMiB,
  memoryHeadroomMiB: policy.memoryHeadroomMiB,
  nics: domain.nics.map((n) => ({ mac: n.mac, bridge: n.bridge, bridgeType: n.bridgeType, vlan: n.vlan })),
  diskPaths: domain.disks.map((d) => d.path),
});
