import { describe, expect, it } from "vitest";
import type { TunnelParams } from "@nimbus/domain";
import type { Tool } from "../../src/real/tool.js";
import { ensureTunnel, releaseTunnel, trunkVlan, untrunkVlan } from "../../src/real/ovs-tunnel.js";

/**
 * A stand-in ovs-vsctl holding one bridge's ports: it answers list-ports, find, get and applies
 * add-port, del-port and set as the real tool does, recording every argument array.
 */
interface FakePort {
  remote?: string;
  key?: number;
  trunks: number[];
  added?: string;
}
function fakeOvs(ports: Record<string, FakePort>) {
  const calls: string[][] = [];
  const tool = {
    run: async (args: string[]) => {
      calls.push(args);
      const rest = args.filter((a) => a !== "--bare" && a !== "--columns=name" && a !== "--if-exists" && a !== "--may-exist");
      switch (rest[0]) {
        case "list-ports":
          return Object.keys(ports).map((p) => `${p}\n`).join("");
        case "find": {
          const key = Number(rest.find((a) => a.startsWith("options:key="))!.split("=")[1]);
          const remote = rest.find((a) => a.startsWith("options:remote_ip="))?.split("=")[1];
          return Object.entries(ports).filter(([, p]) => p.key === key && (remote === undefined || p.remote === remote)).map(([n]) => `${n}\n`).join("");
        }
        case "get": {
          const p = ports[rest[2]!]!;
          if (rest[3] === "trunks") return `[${p.trunks.join(", ")}]\n`;
          return p.added === undefined ? "" : `"${p.added}"\n`;
        }
        case "add-port": {
          const name = rest[2]!;
          ports[name] = { trunks: [], remote: rest.find((a) => a.startsWith("options:remote_ip="))!.split("=")[1], key: Number(rest.find((a) => a.startsWith("options:key="))!.split("=")[1]) };
          return "";
        }
        case "del-port":
          delete ports[rest[2]!];
          return "";
        case "set": {
          const p = ports[rest[2]!]!;
          p.trunks = rest[3]!.slice("trunks=".length).split(",").filter(Boolean).map(Number);
          p.added = rest[4]!.split("=")[1]!.replace(/"/g, "");
          return "";
        }
      }
      throw new Error(`unexpected ovs-vsctl ${args.join(" ")}`);
    },
  } as unknown as Tool;
  return { tool, calls, ports };
}

const params: TunnelParams = { bridge: "br-ovs", vni: 6100, vlan: 40, remoteIp: "10.10.0.13" };

describe("releaseTunnel keeps the host in the tenant's network", () => {
  it("puts a flow-based port in place of the last point-to-point one of the VNI", async () => {
    const ovs = fakeOvs({ "vx6100-0": { remote: "10.10.0.13", key: 6100, trunks: [] }, uplink: { trunks: [10] } });
    expect(await releaseTunnel(ovs.tool, params)).toEqual({ port: "vx6100-0", changed: true });
    expect(Object.entries(ovs.ports).filter(([, p]) => p.key === 6100)).toEqual([["vx6100", expect.objectContaining({ remote: "flow", key: 6100 })]]);
  });

  it("adds nothing while another port still carries the VNI", async () => {
    const ovs = fakeOvs({ "vx6100-0": { remote: "10.10.0.13", key: 6100, trunks: [] }, "vx6100-1": { remote: "10.10.0.12", key: 6100, trunks: [] } });
    await releaseTunnel(ovs.tool, params);
    expect(Object.keys(ovs.ports)).toEqual(["vx6100-1"]);
  });
});

describe("ensureTunnel / releaseTunnel on Open vSwitch", () => {
  it("adds a VXLAN port back to the remote with --may-exist, named after the first free vx<vni>-<n>", async () => {
    const ovs = fakeOvs({ "vx6100-0": { remote: "10.10.0.12", key: 6100, trunks: [] }, uplink: { trunks: [10] } });
    expect(await ensureTunnel(ovs.tool, params)).toEqual({ port: "vx6100-1", changed: true });
    expect(ovs.calls).toContainEqual([
      "--may-exist", "add-port", "br-ovs", "vx6100-1", "tag=40", "--", "set", "interface", "vx6100-1", "type=vxlan", "options:remote_ip=10.10.0.13", "options:key=6100",
    ]);
  });

  it("is idempotent: a port of the VNI to that remote (whatever its name) is kept and nothing is added", async () => {
    const ovs = fakeOvs({ "old-name": { remote: "10.10.0.13", key: 6100, trunks: [] } });
    expect(await ensureTunnel(ovs.tool, params)).toEqual({ port: "old-name", changed: false });
    expect(ovs.calls.some((a) => a.includes("add-port"))).toBe(false);
  });

  it("releases only the ports of that VNI to that remote with --if-exists, and a second release changes nothing", async () => {
    const ovs = fakeOvs({ "vx6100-0": { remote: "10.10.0.12", key: 6100, trunks: [] }, "vx6100-1": { remote: "10.10.0.13", key: 6100, trunks: [] } });
    expect(await releaseTunnel(ovs.tool, params)).toEqual({ port: "vx6100-1", changed: true });
    expect(ovs.calls).toContainEqual(["--if-exists", "del-port", "br-ovs", "vx6100-1"]);
    expect(Object.keys(ovs.ports)).toEqual(["vx6100-0"]);
    expect(await releaseTunnel(ovs.tool, params)).toEqual({ port: null, changed: false });
  });
});

describe("trunkVlan / untrunkVlan on Open vSwitch", () => {
  it("adds the VLAN to the uplink's trunks read first, remembers it added it, and does not add it twice", async () => {
    const ovs = fakeOvs({ uplink: { trunks: [10, 20] }, "vx6100-0": { remote: "10.10.0.12", key: 6100, trunks: [] } });
    expect(await trunkVlan(ovs.tool, "br-ovs", 40)).toEqual(["uplink"]);
    expect(ovs.calls).toContainEqual(["get", "Port", "uplink", "trunks"]);
    expect(ovs.calls).toContainEqual(["set", "Port", "uplink", "trunks=10,20,40", 'external_ids:nimbus-added-trunks="40"']);
    expect(await trunkVlan(ovs.tool, "br-ovs", 40)).toEqual([]);
    expect(ovs.ports.uplink!.trunks).toEqual([10, 20, 40]);
  });

  it("removes only a VLAN it added, idempotently, and leaves an admin's VLAN alone", async () => {
    const ovs = fakeOvs({ uplink: { trunks: [10, 20, 40], added: "40" } });
    expect(await untrunkVlan(ovs.tool, "br-ovs", 40)).toEqual(["uplink"]);
    expect(ovs.ports.uplink!.trunks).toEqual([10, 20]);
    expect(await untrunkVlan(ovs.tool, "br-ovs", 40)).toEqual([]);
    expect(await untrunkVlan(ovs.tool, "br-ovs", 10)).toEqual([]);
    expect(ovs.ports.uplink!.trunks).toEqual([10, 20]);
  });

  it("never empties a trunk list (an empty list carries every VLAN) and leaves a trunk-all port alone", async () => {
    const ovs = fakeOvs({ uplink: { trunks: [40], added: "40" }, all: { trunks: [] } });
    expect(await untrunkVlan(ovs.tool, "br-ovs", 40)).toEqual([]);
    expect(await trunkVlan(ovs.tool, "br-ovs", 50)).toEqual(["uplink"]);
    expect(ovs.ports.all!.trunks).toEqual([]);
  });
});
