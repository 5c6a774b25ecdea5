import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetSection } from "@nimbus/domain";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { RealNetDriver } from "../../src/real/net.js";
import { Tool } from "../../src/real/tool.js";
import { createNetns } from "./netns.js";

// A real kernel topology in a namespace this test creates: a Linux bridge with a VXLAN, a tap
// (a VM's vnet) and a veth uplink. The driver reads it through `ip -n` / `bridge -n`.
describe("RealNetDriver on a real namespace", () => {
  let ns: ReturnType<typeof createNetns>;
  let driver: RealNetDriver;
  beforeAll(() => {
    ns = createNetns("net");
    ns.ip("link", "add", "br0", "type", "bridge");
    ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer");
    ns.ip("addr", "add", "10.231.0.1/24", "dev", "eth0");
    ns.ip("link", "add", "vxlan100", "type", "vxlan", "id", "100", "local", "10.231.0.1", "remote", "10.231.0.2", "dstport", "4789", "dev", "eth0");
    ns.ip("tuntap", "add", "vnet7", "mode", "tap");
    ns.ip("link", "set", "vnet7", "address", "fe:54:00:ac:00:07");
    for (const dev of ["vxlan100", "vnet7"]) ns.ip("link", "set", dev, "master", "br0");
    for (const dev of ["br0", "eth0", "eth0-peer", "vxlan100", "vnet7"]) ns.ip("link", "set", dev, "up");
    const inNs = (path: string) => new Tool(path, { path, args: ["-n", ns.name], env: {} });
    driver = new RealNetDriver(
      "kvm-test",
      { ip: inNs("ip"), bridge: inNs("bridge"), ovsVsctl: null, ovsdbClient: null },
      AgentConfig.parse({}).net,
      async () => [{ domain: "acme-web7", domainUuid: "u-7", mac: "52:54:00:ac:00:07", device: null }],
      silentLog,
    );
  });
  afterAll(() => ns?.remove());

  it("reads bridges, VXLAN endpoints, VM ports and addresses", async () => {
    const net = NetSection.parse(await driver.snapshot());
    const br0 = net.bridges.find((b) => b.name === "br0")!;
    expect(br0.ports.map((p) => [p.name, p.mode, p.attached?.domain ?? null])).toEqual([
      ["vnet7", "vm", "acme-web7"],
      ["vxlan100", "vxlan", null],
    ]);
    expect(br0.ports[1]!.vxlan).toEqual({ vni: 100, local: "10.231.0.1", remote: "10.231.0.2", dstPort: 4789 });
    expect(net.interfaces.find((i) => i.name === "eth0")).toMatchObject({ kind: "veth", addresses: ["10.231.0.1/24"], master: null });
  });

  it("pushes a change when a link appears (ip monitor, not polling)", async () => {
    let changes = 0;
    const stop = driver.watch(() => changes++);
    try {
      // ip monitor prints nothing until something happens; give it a moment to subscribe.
      await new Promise((r) => setTimeout(r, 300));
      ns.ip("link", "add", "vxlan200", "type", "vxlan", "id", "200", "local", "10.231.0.1", "dstport", "4789", "dev", "eth0");
      const until = Date.now() + 5000;
      while (changes === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(changes).toBeGreaterThan(0);
    } finally {
      stop();
    }
  });

  it("reads a VXLAN's remote from its fdb flood entries", async () => {
    ns.ip("link", "add", "vxlan300", "type", "vxlan", "id", "300", "local", "10.231.0.1", "dstport", "4789", "dev", "eth0");
    ns.ip("link", "set", "vxlan300", "master", "br0");
    const { execFileSync } = await import("node:child_process");
    execFileSync("bridge", ["-n", ns.name, "fdb", "append", "00:00:00:00:00:00", "dev", "vxlan300", "dst", "10.231.0.3"]);
    const port = (await driver.snapshot()).bridges.find((b) => b.name === "br0")!.ports.find((p) => p.name === "vxlan300")!;
    expect(port.vxlan).toEqual({ vni: 300, local: "10.231.0.1", remote: "10.231.0.3", dstPort: 4789 });
  });
});
