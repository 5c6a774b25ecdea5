import { z } from "zod";
import { HostName, Mtu, ServiceName, TenantSlug, VlanId, Vni } from "@nimbus/domain";

/**
 * A scenario is the lab's world as data: which hypervisors, VMs, storage servers, tenants and
 * swarm services exist at start. The default one is a JSON file (scenarios/default.json); the
 * generator builds large ones for benchmarks. Everything else (ids, MACs, device names, state
 * over time) is derived by the world.
 */
const Ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, "an IPv4 address");

export const ScenarioTenant = z.object({
  slug: TenantSlug,
  name: z.string().min(1),
  vni: Vni,
  /** Access VLAN the tenant's VMs use on each hypervisor's OVS bridge (mapped to the VNI). */
  vlan: VlanId,
});
export type ScenarioTenant = z.infer<typeof ScenarioTenant>;

export const Hardware = z.object({
  cpuModel: z.string().min(1),
  cpuCount: z.number().int().positive(),
  cpuFeatures: z.array(z.string()).default([]),
  memoryMiB: z.number().int().positive(),
  diskBytes: z.number().int().positive(),
});
export type Hardware = z.infer<typeof Hardware>;

export const HypervisorNetwork = z.object({
  /** Physical trunk NIC, the uplink of the Linux bridge. */
  uplink: z.object({ name: z.string().min(1), mtu: Mtu }),
  linuxBridge: z.object({ name: z.string().min(1), mtu: Mtu }),
  ovsBridge: z.object({
    name: z.string().min(1),
    mtu: Mtu,
    /** veth pair joining the OVS bridge to the Linux bridge; the OVS end is the VLAN trunk. */
    trunkPort: z.string().min(1),
    vlans: z.array(VlanId).min(1),
  }),
  /** Hypervisors this one keeps a VXLAN port to, one per tenant VNI. */
  tunnelPeers: z.array(HostName),
  /**
   * Instead of one port per peer, one VXLAN port per VNI with remote_ip=flow: a controller or
   * EVPN picks the remote, as fleets too large for a full mesh of ports do.
   */
  flowTunnels: z.boolean().default(false),
});
export type HypervisorNetwork = z.infer<typeof HypervisorNetwork>;

export const ScenarioMount = z.object({ source: z.string(), target: z.string(), fstype: z.string() });
export type ScenarioMount = z.infer<typeof ScenarioMount>;

export const ScenarioHypervisor = z.object({
  name: HostName,
  /** Underlay address on the Linux bridge; VXLAN tunnels end here. */
  underlayIp: Ipv4,
  hardware: Hardware,
  network: HypervisorNetwork,
  mounts: z.array(ScenarioMount),
});
export type ScenarioHypervisor = z.infer<typeof ScenarioHypervisor>;

export const ScenarioNic = z.object({
  bridge: z.string().min(1),
  /** Access VLAN on an OVS bridge; null on the Linux bridge (untagged). */
  vlan: VlanId.nullable(),
  ip: Ipv4.nullable(),
});

export const ScenarioVm = z.object({
  name: HostName,
  host: HostName,
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  diskGiB: z.number().int().positive(),
  /** Pool and directory the disk lives in: /instance/<vm>.qcow2 in pool "instance". */
  pool: z.string().default("instance"),
  diskDir: z.string().default("/instance"),
  tenant: TenantSlug.nullable(),
  role: z.string().nullable(),
  nics: z.array(ScenarioNic).min(1),
  state: z.enum(["running", "shutoff"]).default("running"),
  autostart: z.boolean().default(true),
});
export type ScenarioVm = z.infer<typeof ScenarioVm>;

export const ScenarioStorage = z.object({
  /** Floating address keepalived moves between the servers. */
  vip: Ipv4,
  exports: z
    .array(
      z.object({
        path: z.string().startsWith("/"),
        clients: z.array(z.string()),
        totalBytes: z.number().int().positive(),
        usedBytes: z.number().int().nonnegative(),
      }),
    )
    .min(1),
  servers: z
    .array(z.object({ name: HostName, address: Ipv4, priority: z.number().int().min(1).max(254), hardware: Hardware }))
    .min(1),
});
export type ScenarioStorage = z.infer<typeof ScenarioStorage>;

export const ScenarioService = z.object({
  name: ServiceName,
  image: z.string().min(1),
  mode: z.enum(["replicated", "global"]),
  /** Ignored for global services (one task per eligible node). */
  replicas: z.number().int().nonnegative().default(1),
  tenant: TenantSlug.nullable(),
  stack: z.string().nullable().default(null),
  ports: z
    .array(
      z.object({
        published: z.number().int().min(1).max(65_535),
        target: z.number().int().min(1).max(65_535),
        protocol: z.enum(["tcp", "udp", "sctp"]).default("tcp"),
        mode: z.enum(["ingress", "host"]).default("ingress"),
      }),
    )
    .default([]),
  /** The service's own labels (`nimbus.check.http…` asks for HTTP checks of its ports). */
  labels: z.record(z.string(), z.string()).default({}),
});
export type ScenarioService = z.infer<typeof ScenarioService>;

export const ScenarioSwarm = z.object({
  engineVersion: z.string(),
  /** Swarm nodes are VMs of the scenario; each is also a lab host with its own SSH endpoint. */
  nodes: z.array(z.object({ vm: HostName, role: z.enum(["manager", "worker"]) })).min(1),
  services: z.array(ScenarioService),
});
export type ScenarioSwarm = z.infer<typeof ScenarioSwarm>;

export const Scenario = z
  .object({
    name: z.string().min(1),
    os: z.object({ name: z.string(), kernel: z.string() }),
    tenants: z.array(ScenarioTenant),
    hypervisors: z.array(ScenarioHypervisor).min(1),
    vms: z.array(ScenarioVm),
    storage: ScenarioStorage,
    swarm: ScenarioSwarm.nullable(),
  })
  .superRefine((s, ctx) => {
    for (const problem of scenarioProblems(s)) ctx.addIssue({ code: "custom", message: problem });
  });
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** Cross-references a schema cannot express: names resolve, nothing is declared twice. */
function scenarioProblems(s: z.infer<typeof Scenario>): string[] {
  const problems: string[] = [];
  const hostNames = [...s.hypervisors.map((h) => h.name), ...s.storage.servers.map((n) => n.name)];
  const swarmVms = new Set(s.swarm?.nodes.map((n) => n.vm) ?? []);
  for (const name of duplicates([...hostNames, ...s.vms.map((v) => v.name)])) problems.push(`name ${name} is declared twice`);
  for (const slug of duplicates(s.tenants.map((t) => t.slug))) problems.push(`tenant ${slug} is declared twice`);
  for (const vni of duplicates(s.tenants.map((t) => String(t.vni)))) problems.push(`VNI ${vni} is used by two tenants`);
  const tenants = new Map(s.tenants.map((t) => [t.slug, t]));
  const hypervisors = new Map(s.hypervisors.map((h) => [h.name, h]));
  for (const h of s.hypervisors)
    for (const peer of h.network.tunnelPeers)
      if (!hypervisors.has(peer) || peer === h.name) problems.push(`${h.name}: tunnel peer ${peer} is not another hypervisor`);
  for (const vm of s.vms) {
    const host = hypervisors.get(vm.host);
    if (!host) {
      problems.push(`VM ${vm.name}: host ${vm.host} is not a hypervisor`);
      continue;
    }
    if (vm.tenant !== null && !tenants.has(vm.tenant)) problems.push(`VM ${vm.name}: unknown tenant ${vm.tenant}`);
    for (const nic of vm.nics) {
      const { linuxBridge, ovsBridge } = host.network;
      if (nic.bridge === linuxBridge.name && nic.vlan !== null) problems.push(`VM ${vm.name}: ${nic.bridge} is a Linux bridge, NICs on it are untagged`);
      else if (nic.bridge === ovsBridge.name && nic.vlan === null) problems.push(`VM ${vm.name}: NICs on ${nic.bridge} need an access VLAN`);
      else if (nic.bridge !== linuxBridge.name && nic.bridge !== ovsBridge.name) problems.push(`VM ${vm.name}: bridge ${nic.bridge} does not exist on ${vm.host}`);
    }
    if (swarmVms.has(vm.name) && !vm.nics.some((n) => n.ip)) problems.push(`swarm VM ${vm.name} needs an IP address`);
  }
  const vmNames = new Set(s.vms.map((v) => v.name));
  for (const vm of swarmVms) if (!vmNames.has(vm)) problems.push(`swarm node ${vm} is not a VM of the scenario`);
  if (s.swarm && !s.swarm.nodes.some((n) => n.role === "manager")) problems.push("the swarm needs a manager");
  for (const svc of s.swarm?.services ?? []) if (svc.tenant !== null && !tenants.has(svc.tenant)) problems.push(`service ${svc.name}: unknown tenant ${svc.tenant}`);
  for (const name of duplicates(s.swarm?.services.map((v) => v.name) ?? [])) problems.push(`service ${name} is declared twice`);
  return problems;
}

function duplicates(names: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}
