import { buildTopology, findings } from "../../src/index.js";
import type { Bridge, BridgePort, Domain, DomainNic, Finding, FindingKind, HostRecord, NetInterface, TenantInfo } from "../../src/index.js";

/**
 * Builders for network fixtures. Shapes follow what the real drivers report (see
 * shared/samples: OVS access ports carry `tag`, trunks `trunks`, vxlan ports
 * `options:{key, remote_ip, dst_port}`; libvirt NICs name their vnet device and MAC).
 */

export const iface = (name: string, over: Partial<NetInterface> = {}): NetInterface => ({
  name,
  kind: "physical",
  mtu: 1500,
  mac: null,
  up: true,
  master: null,
  addresses: [],
  ...over,
});

const basePort = (name: string, over: Partial<BridgePort>): BridgePort => ({
  name,
  mode: "vm",
  vlan: null,
  trunks: [],
  vxlan: null,
  mtu: null,
  up: true,
  attached: null,
  ...over,
});

export const vmPort = (name: string, vlan: number | null, attached: { domain: string; mac: string } | null, over: Partial<BridgePort> = {}) =>
  basePort(name, { mode: "vm", vlan, attached, ...over });
export const accessPort = (name: string, vlan: number, over: Partial<BridgePort> = {}) => basePort(name, { mode: "access", vlan, ...over });
export const trunkPort = (name: string, trunks: number[], over: Partial<BridgePort> = {}) => basePort(name, { mode: "uplink", trunks, ...over });
export const internalPort = (name: string) => basePort(name, { mode: "internal" });
export const vxlanPort = (
  name: string,
  vni: number,
  remote: string | null,
  over: Partial<BridgePort> & { local?: string | null; dstPort?: number } = {},
): BridgePort => {
  const { local = null, dstPort = 4789, ...rest } = over;
  return basePort(name, { mode: "vxlan", vxlan: { vni, local, remote, dstPort }, ...rest });
};

export const ovs = (name: string, ports: BridgePort[], mtu: number | null = 1500): Bridge => ({ name, type: "ovs", mtu, ports });
export const linuxBridge = (name: string, ports: BridgePort[], mtu: number | null = 1500): Bridge => ({ name, type: "linux", mtu, ports });

export interface NicSpec {
  mac: string;
  device: string | null;
  vlan: number | null;
  bridge?: string;
  bridgeType?: "linux" | "ovs";
}

export const domain = (name: string, tenant: string | null, nics: NicSpec[], over: Partial<Domain> = {}): Domain => ({
  name,
  uuid: `uuid-${name}`,
  state: "running",
  vcpus: 1,
  memoryMiB: 512,
  tenant,
  role: null,
  cpuModel: null,
  cpuFeatures: [],
  disks: [],
  nics: nics.map(
    (n): DomainNic => ({
      mac: n.mac,
      bridge: n.bridge ?? "br-ovs",
      bridgeType: n.bridgeType ?? "ovs",
      device: n.device,
      vlan: n.vlan,
      model: "virtio",
      ipAddresses: [],
    }),
  ),
  persistent: true,
  autostart: false,
  ...over,
});

export interface HostSpec {
  address?: string;
  interfaces?: NetInterface[];
  bridges?: Bridge[];
  domains?: Domain[];
  /** false: the host has not reported its network section. */
  net?: boolean;
}

export function host(name: string, spec: HostSpec = {}): HostRecord {
  return {
    name,
    address: spec.address ?? `127.1.0.${name.replace(/\D/g, "") || "9"}`,
    port: 22,
    maintenance: false,
    connection: {
      state: "online",
      since: "2026-01-01T00:00:00.000Z",
      lastSeen: "2026-01-01T00:00:00.000Z",
      message: null,
      agentVersion: "1.0.0",
      capabilities: ["virt", "net"],
      pinnedKey: "SHA256:x",
      offeredKey: null,
      nextRetryAt: null,
    },
    inventory: {
      node: null,
      virt: { hypervisor: "QEMU 7.2", domains: spec.domains ?? [] },
      net: spec.net === false ? null : { interfaces: spec.interfaces ?? [], bridges: spec.bridges ?? [] },
      swarm: null,
      storage: null,
    },
  };
}

export const mac = (host: number, n: number) => `52:54:00:00:${host.toString(16).padStart(2, "0")}:${n.toString(16).padStart(2, "0")}`;

export const LAB_TENANTS: TenantInfo[] = [
  { slug: "acme", name: "Acme Corp", vni: 5001 },
  { slug: "globex", name: "Globex", vni: 5002 },
  { slug: "initech", name: "Initech", vni: 5003 },
];
export const LAB_VLAN: Record<string, number> = { acme: 10, globex: 20, initech: 30 };

/** Underlay address of host i (1-based) on 10.99.0.0/16: kvm1 is 10.99.0.11, kvm2 10.99.0.12. */
export const underlayIp = (i: number) => `10.99.${Math.floor(i / 200)}.${(i % 200) + 10}`;

/**
 * A fleet shaped like the lab's default scenario, generalised to N hosts: each host has `br0`
 * (Linux bridge, untagged infrastructure VMs, uplink eth2) and `br-ovs` (OVS, uplink eth0
 * trunking the tenants' VLANs, one VXLAN port per tenant and peer), an underlay eth1 with MTU
 * 1600, and `vmsPerHost` tenant VMs spread over the tenants. A full mesh: no findings.
 */
export function labFleet(hostCount = 2, vmsPerHost = 3, tenants: TenantInfo[] = LAB_TENANTS): HostRecord[] {
  const vlanOf = (t: TenantInfo, i: number) => LAB_VLAN[t.slug] ?? 100 + i;
  const hosts: HostRecord[] = [];
  for (let i = 1; i <= hostCount; i++) {
    const name = `kvm${i}`;
    const domains: Domain[] = [];
    const vmPorts: BridgePort[] = [];
    for (let k = 0; k < vmsPerHost; k++) {
      const ti = k % tenants.length;
      const t = tenants[ti]!;
      const vmName = `${t.slug}-vm${i}-${k}`;
      const m = mac(i, k);
      domains.push(domain(vmName, t.slug, [{ mac: m, device: `vnet${k}`, vlan: vlanOf(t, ti) }]));
      vmPorts.push(vmPort(`vnet${k}`, vlanOf(t, ti), { domain: vmName, mac: m }));
    }
    const infraName = i === 1 ? "manager" : `worker${i - 1}`;
    const infraMac = mac(i, 200);
    domains.push(domain(infraName, null, [{ mac: infraMac, device: "vnet-infra", vlan: null, bridge: "br0", bridgeType: "linux" }]));
    const tunnels: BridgePort[] = [];
    tenants.forEach((t, ti) => {
      for (let j = 1; j <= hostCount; j++)
        // Like the captured `ovs-vsctl show`: options key + remote_ip + dst_port, no local_ip.
        if (j !== i) tunnels.push(vxlanPort(`vx${t.vni}-kvm${j}`, t.vni!, underlayIp(j), { vlan: vlanOf(t, ti) }));
    });
    hosts.push(
      host(name, {
        address: `127.1.0.${i}`,
        interfaces: [
          iface("lo", { kind: "loopback", mtu: 65536, addresses: ["127.0.0.1/8", "::1/128"] }),
          iface("eth0", { mtu: 1600, master: "br-ovs" }),
          iface("eth1", { mtu: 1600, addresses: [`${underlayIp(i)}/16`] }),
          iface("eth2", { master: "br0" }),
          iface("br0", { kind: "bridge" }),
          iface("br-ovs", { kind: "ovs-internal" }),
        ],
        bridges: [
          linuxBridge("br0", [trunkPort("eth2", []), vmPort("vnet-infra", null, { domain: infraName, mac: infraMac })]),
          ovs("br-ovs", [
            trunkPort("eth0", tenants.map(vlanOf), { mtu: 1600 }),
            internalPort("br-ovs"),
            ...tunnels,
            ...vmPorts,
          ]),
        ],
        domains,
      }),
    );
  }
  return hosts;
}

/** The lab's default scenario: kvm1/kvm2, acme/globex/initech on VLANs 10/20/30, VNIs 5001-5003. */
export const labDefault = () => labFleet(2, 3);

export function findPort(hosts: HostRecord[], hostName: string, portName: string): BridgePort {
  for (const b of hosts.find((h) => h.name === hostName)?.inventory.net?.bridges ?? []) {
    const p = b.ports.find((x) => x.name === portName);
    if (p) return p;
  }
  throw new Error(`fixture has no port ${portName} on ${hostName}`);
}

export function findHost(hosts: HostRecord[], hostName: string): HostRecord {
  const h = hosts.find((x) => x.name === hostName);
  if (!h) throw new Error(`fixture has no host ${hostName}`);
  return h;
}

export const bridgeOf = (h: HostRecord, name: string): Bridge => {
  const b = h.inventory.net?.bridges.find((x) => x.name === name);
  if (!b) throw new Error(`fixture has no bridge ${name} on ${h.name}`);
  return b;
};

/** Findings of one kind for a fleet. */
export function findingsOf(kind: FindingKind, hosts: HostRecord[], tenants: TenantInfo[] = LAB_TENANTS): Finding[] {
  return findings(buildTopology(hosts, tenants)).filter((f) => f.kind === kind);
}

/** Plugs one more VM into a host's `br-ovs` on an access port `device` with `vlan`. */
export function addVm(h: HostRecord, name: string, tenant: string | null, vlan: number, device: string, over: Partial<Domain> = {}): void {
  const m = `52:54:00:ff:${h.name.replace(/\D/g, "").padStart(2, "0")}:${device.replace(/\D/g, "").padStart(2, "0")}`;
  h.inventory.virt!.domains.push(domain(name, tenant, [{ mac: m, device, vlan }], over));
  bridgeOf(h, "br-ovs").ports.push(vmPort(device, vlan, { domain: name, mac: m }));
}

export function removePort(h: HostRecord, bridge: string, port: string): void {
  const b = bridgeOf(h, bridge);
  b.ports = b.ports.filter((p) => p.name !== port);
}
