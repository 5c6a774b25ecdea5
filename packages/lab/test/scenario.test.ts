import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { DEFAULT_SCENARIO_PATH, defaultScenario } from "../src/scenario/load.js";
import { generateScenario } from "../src/scenario/generate.js";
import { Scenario } from "../src/scenario/schema.js";
import { World } from "../src/world/world.js";

const raw = () => JSON.parse(readFileSync(DEFAULT_SCENARIO_PATH, "utf8"));

describe("default scenario file", () => {
  it("validates against the lab's scenario schema", () => {
    expect(Scenario.safeParse(raw()).success).toBe(true);
  });

  it("declares the intended topology", () => {
    const s = defaultScenario();
    expect(s.hypervisors.map((h) => h.name)).toEqual(["kvm1", "kvm2"]);
    expect(s.tenants.map((t) => [t.slug, t.vni, t.vlan])).toEqual([
      ["acme", 5001, 10],
      ["globex", 5002, 20],
      ["initech", 5003, 30],
    ]);
    for (const h of s.hypervisors) {
      expect(h.network.uplink).toEqual({ name: "eth0", mtu: 1600 });
      expect(h.network.ovsBridge.vlans).toEqual([10, 20, 30]);
      expect(h.hardware.cpuCount).toBe(16);
      expect(h.hardware.memoryMiB).toBe(64 * 1024);
      expect(h.mounts.map((m) => `${m.source} ${m.target}`)).toEqual(["nfs-vip:/instance /instance", "nfs-vip:/instance2 /instance2"]);
    }
    for (const t of s.tenants) {
      const vms = s.vms.filter((v) => v.tenant === t.slug);
      expect(vms.length).toBeGreaterThanOrEqual(2);
      expect(new Set(vms.map((v) => v.host)).size).toBe(2);
    }
    expect(s.storage.servers.map((x) => x.name)).toEqual(["nfs1", "nfs2"]);
    // A second export, so disks can be moved between datastores.
    expect(s.storage.exports.map((e) => e.path)).toEqual(["/instance", "/instance2"]);
    expect(s.swarm?.services.map((x) => x.name)).toEqual(["web", "api", "queue", "monitoring"]);
  });

  it("rejects a VM on an unknown hypervisor, naming it", () => {
    const bad = raw();
    bad.vms[0].host = "kvm9";
    const result = Scenario.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain("VM manager: host kvm9 is not a hypervisor");
  });

  it("rejects a tagged NIC on the Linux bridge and a name declared twice", () => {
    const bad = raw();
    bad.vms[0].nics[0].vlan = 10;
    bad.vms[1].name = "kvm1";
    const messages = Scenario.safeParse(bad).error?.issues.map((i) => i.message) ?? [];
    expect(messages).toContain("VM manager: br0 is a Linux bridge, NICs on it are untagged");
    expect(messages).toContain("name kvm1 is declared twice");
  });

  it("rejects a service of an unknown tenant", () => {
    const bad = raw();
    bad.swarm.services[0].tenant = "umbrella";
    expect(Scenario.safeParse(bad).error?.issues.map((i) => i.message)).toContain("service web: unknown tenant umbrella");
  });
});

describe("generateScenario", () => {
  it("makes N hypervisors plus the storage pair and the swarm", () => {
    const s = generateScenario({ hosts: 5, vmsPerHost: 3 });
    expect(s.hypervisors).toHaveLength(5);
    expect(s.vms).toHaveLength(5 * 3 + 3);
    expect(s.storage.servers).toHaveLength(2);
    expect(s.hypervisors[0]!.network).toMatchObject({ tunnelPeers: [], flowTunnels: true });
  });

  it("holds 2,000 hosts with VMs in a world of modest size", () => {
    const before = process.memoryUsage().heapUsed;
    const s = generateScenario({ hosts: 2_000, vmsPerHost: 8 });
    const world = new World(s, { jitter: false });
    try {
      expect(world.hostNames()).toHaveLength(2_000 + 2 + 3);
      expect(world.vms.size).toBe(2_000 * 8 + 3);
      expect(new Set(s.hypervisors.map((h) => h.underlayIp)).size).toBe(2_000);
      const grownMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
      expect(grownMiB).toBeLessThan(400);
    } finally {
      world.stop();
    }
  });

  it("refuses a nonsensical size", () => {
    expect(() => generateScenario({ hosts: 0, vmsPerHost: 1 })).toThrow(/hosts must be/);
  });
});
