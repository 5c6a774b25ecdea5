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

  const conn = destination.connection;
  if (destination.name === source.name) add("reachable", "Destination", "fail", "the VM already runs on this host");
  else if (conn.state === "key-changed") add("reachable", "Destination", "fail", `${destination.name}'s host key changed; an admin must accept it first`);
  else if (conn.state !== "online") add("reachable", "Destination", "fail", `${destination.name} is ${conn.state}${conn.message ? `: ${conn.message}` : ""}`);
  else if (destination.maintenance) add("reachable", "Destination", "fail", `${destination.name} is in maintenance`);
  else if (!destination.inventory.virt) add("reachable", "Destination", "fail", `${destination.name} is not a hypervisor`);
  else add("reachable", "Destination", "pass", `${destination.name} is online with a trusted key`);

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

  const node = destination.inventory.node;
  if (!node) add("memory", "Memory", "fail", `${destination.name} has not reported its memory`);
  else {
    const free = node.memoryTotalMiB - committedMemoryMiB(destination) - policy.memoryHeadroomMiB;
    add(
      "memory",
      "Memory",
      free >= domain.memoryMiB ? "pass" : "fail",
      `needs ${domain.memoryMiB} MiB; ${Math.max(0, Math.floor(free))} MiB free after ${policy.memoryHeadroomMiB} MiB headroom`,
    );
    const vcpus = committedVcpus(destination) + domain.vcpus;
    const limit = node.cpuCount * policy.cpuOvercommit;
    add("cpu", "vCPUs", vcpus <= limit ? "pass" : "warn", `${vcpus} vCPUs on ${node.cpuCount} CPUs (overcommit limit ${policy.cpuOvercommit}:1)`);
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
    const br = bridges.find((b) => b.name === nic.bridge);
    const id = `net-${nic.mac}`;
    if (!br) {
      add(id, `NIC ${nic.mac}`, "fail", `bridge ${nic.bridge} does not exist on ${destination.name}`);
      continue;
    }
    if (br.type !== nic.bridgeType) {
      add(id, `NIC ${nic.mac}`, "fail", `${nic.bridge} is a ${br.type} bridge on ${destination.name}, the VM needs ${nic.bridgeType}`);
      continue;
    }
    if (nic.vlan !== null) {
      if (!bridgeCarriesVlan(br, nic.vlan)) {
        add(id, `NIC ${nic.mac}`, "fail", `VLAN ${nic.vlan} is not carried by any trunk of ${nic.bridge} on ${destination.name}`);
        continue;
      }
    }
    add(id, `NIC ${nic.mac}`, "pass", `${nic.bridge}${nic.vlan !== null ? ` VLAN ${nic.vlan}` : ""} present`);
  }

  if (tenantVni !== null) {
    const tunnels = bridges.flatMap((b) => b.ports.filter((p) => p.vxlan?.vni === tenantVni));
    if (!tunnels.length) add("vni", "Tenant VNI", "fail", `VNI ${tenantVni} is not present on ${destination.name}`);
    else {
      const br = bridges.find((b) => b.ports.some((p) => p.vxlan?.vni === tenantVni));
      const uplinkMtu = Math.min(...(destination.inventory.net?.interfaces ?? []).filter((i) => i.kind === "physical" && i.mtu).map((i) => i.mtu!));
      const needed = (br?.mtu ?? 1500) + VXLAN_OVERHEAD;
      if (Number.isFinite(uplinkMtu) && uplinkMtu < needed)
        add("vni", "Tenant VNI", "warn", `VNI ${tenantVni} present, but uplink MTU ${uplinkMtu} < ${needed} needed for VXLAN`);
      else add("vni", "Tenant VNI", "pass", `VNI ${tenantVni} tunnelled on ${destination.name}`);
    }
  }
  return checks;
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
    const br = o.bridges.find((b) => b.name === nic.bridge);
    const id = `agent-net-${nic.mac}`;
    if (!br) add(id, `NIC ${nic.mac}`, "fail", `bridge ${nic.bridge} does not exist on ${o.host}`);
    else if (br.type !== nic.bridgeType) add(id, `NIC ${nic.mac}`, "fail", `${nic.bridge} is a ${br.type} bridge on ${o.host}, the VM needs ${nic.bridgeType}`);
    else if (nic.vlan !== null && !bridgeCarriesVlan(br, nic.vlan)) add(id, `NIC ${nic.mac}`, "fail", `VLAN ${nic.vlan} is not carried by any trunk of ${nic.bridge} on ${o.host}`);
    else add(id, `NIC ${nic.mac}`, "pass", `${nic.bridge}${nic.vlan !== null ? ` VLAN ${nic.vlan}` : ""} present`);
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
