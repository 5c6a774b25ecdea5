import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetSection } from "@nimbus/domain";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog, type Log } from "../../src/real/log.js";
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
    driver = netDriver(inNs("ip"), inNs("bridge"), silentLog);
  });
  const inNs = (path: string, env: Record<string, string> = {}) => new Tool(path, { path, args: ["-n", ns.name], env });
  const netDriver = (ip: Tool, bridge: Tool, log: Log) =>
    new RealNetDriver(
      "kvm-test",
      { ip, bridge, ovsVsctl: null, ovsdbClient: null },
      AgentConfig.parse({}).net,
      async () => [{ domain: "acme-web7", domainUuid: "u-7", mac: "52:54:00:ac:00:07", device: null }],
      log,
    );
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
    execFileSync("bridge", ["-n", ns.name, "fdb", "append", "00:00:00:00:00:00", "dev", "vxlan300", "dst", "10.231.0.3"]);
    const port = (await driver.snapshot()).bridges.find((b) => b.name === "br0")!.ports.find((p) => p.name === "vxlan300")!;
    expect(port.vxlan).toEqual({ vni: 300, local: "10.231.0.1", remote: "10.231.0.3", dstPort: 4789 });
  });

  describe("without a usable bridge tool", () => {
    const logged: string[] = [];
    const log: Log = (level, message) => logged.push(`${level} ${message}`);
    beforeAll(() => {
      // A VXLAN without a single remote: its remotes would be read from `bridge fdb`.
      ns.ip("link", "add", "vxlan400", "type", "vxlan", "id", "400", "local", "10.231.0.1", "dstport", "4789", "dev", "eth0");
      ns.ip("link", "set", "vxlan400", "master", "br0");
      execFileSync("bridge", ["-n", ns.name, "fdb", "append", "00:00:00:00:00:00", "dev", "vxlan400", "dst", "10.231.0.4"]);
    });

    it("bridge not installed: still reports links and bridges, without flood remotes, and logs it once", async () => {
      logged.length = 0;
      const missing = new Tool("bridge", { path: "nimbus-no-such-bridge", args: [], env: {} });
      const degraded = netDriver(inNs("ip"), missing, log);
      const first = NetSection.parse(await degraded.snapshot());
      const second = NetSection.parse(await degraded.snapshot());
      for (const net of [first, second]) {
        const br0 = net.bridges.find((b) => b.name === "br0")!;
        expect(br0.ports.find((p) => p.name === "vnet7")?.attached?.domain).toBe("acme-web7");
        expect(br0.ports.find((p) => p.name === "vxlan100")?.vxlan?.remote).toBe("10.231.0.2");
        expect(br0.ports.find((p) => p.name === "vxlan400")?.vxlan).toEqual({ vni: 400, local: "10.231.0.1", remote: null, dstPort: 4789 });
      }
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/^warn net on kvm-test: bridge .*is not installed.*without bridge VLAN and VXLAN flood data/);
    });

    it("bridge installed while the agent runs: used at the next snapshot, and its return logged once", async () => {
      logged.length = 0;
      const dir = mkdtempSync(join(tmpdir(), "nimbus-agent-bridge-"));
      try {
        const later = new Tool("bridge", { path: join(dir, "bridge"), args: ["-n", ns.name], env: {} });
        const driver = netDriver(inNs("ip"), later, log);
        await driver.snapshot();
        symlinkSync(execFileSync("sh", ["-c", "command -v bridge || echo /usr/sbin/bridge"]).toString().trim(), join(dir, "bridge"));
        const port = (await driver.snapshot()).bridges.find((b) => b.name === "br0")!.ports.find((p) => p.name === "vxlan400")!;
        await driver.snapshot();
        expect(port.vxlan?.remote).toBe("10.231.0.4");
        expect(logged.map((l) => l.split(":")[0])).toEqual(["warn net on kvm-test", "info net on kvm-test"]);
        expect(logged[1]).toContain("bridge answers again");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("bridge only in /usr/sbin, off a non-root SSH PATH: found there, flood remotes read, nothing logged", async () => {
      logged.length = 0;
      const sshPath = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/games" };
      const driver = netDriver(inNs("ip", sshPath), inNs("bridge", sshPath), log);
      const port = (await driver.snapshot()).bridges.find((b) => b.name === "br0")!.ports.find((p) => p.name === "vxlan400")!;
      expect(port.vxlan?.remote).toBe("10.231.0.4");
      expect(logged).toEqual([]);
    });
  });
});
