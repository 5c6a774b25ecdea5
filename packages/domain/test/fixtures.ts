import type { Domain, HostRecord, NodeFacts } from "../src/index.js";

/** Small, explicit builders for rule tests: a fixture states what the test depends on. */
export const node = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  hostname: "h",
  os: "Debian 12",
  kernel: "6.1",
  cpuModel: "EPYC",
  cpuFeatures: ["avx2", "aes"],
  cpuCount: 16,
  cpuUsagePct: 10,
  memoryTotalMiB: 65536,
  memoryUsedMiB: 8000,
  diskTotalBytes: 1e12,
  diskUsedBytes: 2e11,
  uptimeSeconds: 1000,
  ...over,
});

export const vm = (over: Partial<Domain> = {}): Domain => ({
  name: "web1",
  uuid: "u-web1",
  state: "running",
  vcpus: 2,
  memoryMiB: 2048,
  tenant: "acme",
  role: null,
  cpuModel: null,
  cpuFeatures: [],
  disks: [{ target: "vda", path: "/instance/web1.qcow2", pool: "instance", capacityBytes: 1e10 }],
  nics: [{ mac: "52:54:00:00:00:01", bridge: "br-ovs", bridgeType: "ovs", device: "vnet0", vlan: 10, model: "virtio", ipAddresses: [] }],
  persistent: true,
  autostart: false,
  ...over,
});

export function hypervisor(name: string, domains: Domain[] = [], over: Partial<HostRecord> = {}): HostRecord {
  return {
    name,
    address: "127.0.0.1",
    port: 22,
    maintenance: false,
    connection: {
      state: "online",
      since: "2026-01-01T00:00:00.000Z",
      lastSeen: "2026-01-01T00:00:00.000Z",
      message: null,
      agentVersion: "1.0.0",
      capabilities: ["virt", "net", "storage"],
      pinnedKey: "SHA256:x",
      offeredKey: null,
      nextRetryAt: null,
    },
    inventory: {
      node: node({ hostname: name }),
      virt: { hypervisor: "QEMU 7.2", domains },
      net: {
        interfaces: [{ name: "eth0", kind: "physical", mtu: 1600, mac: null, up: true, master: null, addresses: [] }],
        bridges: [
          {
            name: "br-ovs",
            type: "ovs",
            mtu: 1500,
            ports: [
              { name: "eth0", mode: "trunk", vlan: null, trunks: [10, 20, 30], vxlan: null, mtu: 1600, up: true, attached: null },
              { name: "vx5001", mode: "vxlan", vlan: null, trunks: [], vxlan: { vni: 5001, local: null, remote: "10.0.0.2", dstPort: 4789 }, mtu: null, up: true, attached: null },
            ],
          },
          { name: "br0", type: "linux", mtu: 1500, ports: [{ name: "eth1", mode: "uplink", vlan: null, trunks: [], vxlan: null, mtu: 1500, up: true, attached: null }] },
        ],
      },
      swarm: null,
      storage: { nfs: null, mounts: [{ source: "10.10.0.100:/instance", target: "/instance", fstype: "nfs4" }] },
    },
    ...over,
  };
}
