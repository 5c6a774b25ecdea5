import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreateInstanceParams, CreateProgress } from "@nimbus/domain";
import { toolFailed } from "../../src/real/run.js";
import type { Tool } from "../../src/real/tool.js";
import { getEventListeners } from "node:events";
import { sleep } from "../../src/real/util.js";
import { arpAddress, cancellableSleep, createReal, parseDomiflist, vxlanPorts, type ProvisionTools } from "../../src/real/virt-create.js";

/**
 * The real create's steps against stand-in tools: each records its argument arrays and answers
 * as the real tool does; virt-builder writes the volume (partly, when it fails), so the cleanup
 * is checked on the file system.
 */
let dir: string;
let calls: string[][];
let definedXml = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-create-"));
  mkdirSync(join(dir, "net", "br-ovs"), { recursive: true });
  mkdirSync(join(dir, "ds", ".nimbus-images"), { recursive: true });
  writeFileSync(join(dir, "ds", ".nimbus-images", "index"), "[debian-12]\nname=debian-12\n");
  calls = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const params = (): CreateInstanceParams => ({
  jobId: "op-1",
  name: "web-9",
  tenant: "acme",
  image: { name: "debian-12", os: "debian12", repositoryIndex: join(dir, "ds", ".nimbus-images", "index") },
  volumePath: join(dir, "ds", "web-9.qcow2"),
  vcpus: 1,
  memoryMiB: 512,
  diskGiB: 4,
  nic: { bridge: "br-ovs", bridgeType: "ovs", vlan: 40 },
  wiring: [{ kind: "vxlan", bridge: "br-ovs", vni: 6100, vlan: 40, peers: [{ host: "kvm2", address: "10.10.0.12" }] }],
  sshKeys: [],
  firstBoot: [],
});

const tool = (name: string, answer: (args: string[]) => string): Tool =>
  ({ run: async (args: string[]) => (calls.push([name, ...args]), answer(args)) }) as unknown as Tool;

function tools(opts: { builderFails?: boolean; defined?: () => boolean; onBuild?: () => void } = {}): ProvisionTools {
  let defined = false;
  return {
    host: "kvm1",
    sysClassNet: join(dir, "net"),
    virtType: "qemu",
    domains: async () => [],
    virsh: tool("virsh", (args) => {
      if (args[0] === "list") return defined ? "11111111-1111-4111-8111-111111111111 web-9\n" : "";
      if (args[0] === "define") {
        // virsh reads the XML from the file the agent wrote (not /dev/stdin: a socket under Node), still there while virsh runs.
        definedXml = readFileSync(args.at(-1)!, "utf8");
        return (defined = true), `Domain 'web-9' defined from ${args.at(-1)}\n`;
      }
      if (args[0] === "start") return "Domain 'web-9' started\n";
      if (args[0] === "domstate") return "running\n";
      if (args[0] === "domifaddr" && args[2] === "agent")
        return " Name       MAC address          Protocol     Address\n-------------------------------------------------------\n vnet0      52:54:00:aa:bb:cc    ipv4         10.61.0.100/24\n";
      return "";
    }),
    virtBuilder: tool("virt-builder", (args) => {
      const out = args.find((a) => a.startsWith("--output="))!.slice("--output=".length);
      writeFileSync(out, "partial");
      opts.onBuild?.();
      if (opts.builderFails) throw toolFailed({ tool: "virt-builder", args, exitCode: 1, stderr: "[   2.1] Opening the source\nvirt-builder: error: checksum of template did not match\n" });
      return "[   0.0] Setting up the appliance\n[  80.3] Finishing off\n";
    }),
    ovsVsctl: tool("ovs-vsctl", (args) => (args[0] === "list-ports" ? "vx6100-0\nveth-ovs\n" : "")),
    bridge: tool("bridge", () => ""),
  };
}

const ctx = (signal = new AbortController().signal) => {
  const reports: CreateProgress[] = [];
  return { reports, ctx: { report: (p: CreateProgress) => reports.push(p), signal } };
};

describe("createReal", () => {
  it("runs the steps with argument arrays: virt-builder, a VXLAN port per peer, define from a private file, start, address", async () => {
    const { ctx: c } = ctx();
    const done = await createReal(tools(), params(), c);
    expect(done.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(done.address).toBe("10.61.0.100");
    expect(done.steps[1]!.log).toContain("[  80.3] Finishing off");
    expect(calls).toContainEqual(["ovs-vsctl", "--may-exist", "add-port", "br-ovs", "vx6100-0", "tag=40", "--", "set", "interface", "vx6100-0", "type=vxlan", "options:remote_ip=10.10.0.12", "options:key=6100"]);
    const define = calls.find((c) => c[0] === "virsh" && c[1] === "define")!;
    expect(define.slice(0, 4)).toEqual(["virsh", "define", "--validate", "--"]);
    expect(define[4]).toMatch(/\/nimbus-define-[^/]+\/domain\.xml$/);
    expect(definedXml).toContain("<name>web-9</name>");
    // The file is gone once the domain is defined.
    expect(existsSync(define[4]!)).toBe(false);
    expect(calls.find((c) => c[0] === "virt-builder")!.at(-1)).toBe("debian-12");
  });

  it("takes the address from the host's ARP table when libvirt's sources give none (libvirt 9.0: 'wrong nlmsg len')", async () => {
    const t = tools();
    const inner = t.virsh;
    t.virsh = tool("virsh", (args) => {
      if (args[0] === "domifaddr") throw new Error("error: internal error: wrong nlmsg len");
      if (args[0] === "domiflist") return " Interface   Type     Source   Model    MAC\n----------------------------------\n vnet2       bridge   br-ovs   virtio   52:54:00:81:08:2f\n";
      return (inner as unknown as { run: (a: string[]) => Promise<string> }).run(args) as unknown as string;
    });
    t.procNetArp = join(dir, "arp");
    writeFileSync(t.procNetArp, "IP address       HW type     Flags       HW address            Mask     Device\n172.16.10.118    0x1         0x2         52:54:00:81:08:2f     *        acc10\n");
    const { ctx: c } = ctx();
    const done = await createReal(t, params(), c);
    expect(done.address).toBe("172.16.10.118");
    expect(done.steps.at(-1)!.log).toContain("172.16.10.118 is 52:54:00:81:08:2f in the host's ARP table (acc10)");
  });

  it("puts the tenant's VLAN on the uplink's trunk (read first) when it wires the VNI, and a later failure takes it off again", async () => {
    const t = tools();
    let trunks = "[10, 20]";
    let added = "";
    t.ovsVsctl = tool("ovs-vsctl", (args) => {
      if (args[0] === "list-ports") return "uplink\n";
      if (args[0] === "get") return trunks;
      if (args[0] === "--if-exists" && args[1] === "get") return added;
      if (args[0] === "set") [trunks, added] = [`[${args[3]!.slice("trunks=".length).replace(/,/g, ", ")}]`, args[4]!.split("=")[1]!];
      return "";
    });
    t.virsh = tool("virsh", (args) => {
      if (args[0] === "start") throw toolFailed({ tool: "virsh", args, exitCode: 1, stderr: "error: Failed to start domain\n" });
      return args[0] === "define" ? "Domain 'web-9' defined\n" : "";
    });
    const { ctx: c, reports } = ctx();
    await expect(createReal(t, params(), c)).rejects.toThrow(/^Start failed: .*removed VLAN 40 from the trunk of uplink/);
    expect(calls).toContainEqual(["ovs-vsctl", "get", "Port", "uplink", "trunks"]);
    expect(calls).toContainEqual(["ovs-vsctl", "set", "Port", "uplink", "trunks=10,20,40", 'external_ids:nimbus-added-trunks="40"']);
    expect(reports.find((r) => r.steps[2]!.state === "succeeded")!.steps[2]!.log).toContain("VLAN 40 added to the trunk of uplink");
    expect(calls).toContainEqual(["ovs-vsctl", "set", "Port", "uplink", "trunks=10,20", 'external_ids:nimbus-added-trunks=""']);
    expect(trunks).toBe("[10, 20]");
  });

  it("virt-builder fails: 'Build the volume' failed with what it printed, the partial volume removed, nothing defined", async () => {
    const { ctx: c, reports } = ctx();
    const p = params();
    await expect(createReal(tools({ builderFails: true }), p, c)).rejects.toThrow(/^Build the volume failed: .*virt-builder.*; undone: removed .*web-9\.qcow2$/);
    expect(existsSync(p.volumePath)).toBe(false);
    const last = reports.at(-1)!;
    expect(last.steps[1]).toMatchObject({ state: "failed" });
    expect(last.steps[1]!.log).toContain("virt-builder: error: checksum of template did not match");
    expect(last.undone).toEqual([`removed ${p.volumePath}`]);
    expect(calls.some((c) => c[1] === "define")).toBe(false);
  });

  it("cancelled mid-build: cancelled during 'Build the volume', the volume removed", async () => {
    const abort = new AbortController();
    const { ctx: c } = ctx(abort.signal);
    const p = params();
    await expect(createReal(tools({ builderFails: true, onBuild: () => abort.abort() }), p, c)).rejects.toThrow(/^cancelled during "Build the volume"; undone: removed /);
    expect(existsSync(p.volumePath)).toBe(false);
  });

  it("refuses to build over an existing volume and undoes nothing (the file is not this create's)", async () => {
    const p = params();
    writeFileSync(p.volumePath, "someone else's");
    await expect(createReal(tools(), p, ctx().ctx)).rejects.toThrow(/^Check the host failed: .*already exists; nothing to undo$/);
    expect(existsSync(p.volumePath)).toBe(true);
  });
});

describe("pauses in a job's wait loops", () => {
  it("leave no abort listener on the job's signal once they end (a 2 s loop added one per turn)", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 12; i++) {
      await cancellableSleep(1, ac.signal);
      await sleep(1, ac.signal);
    }
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("still end at once on a cancel", async () => {
    const ac = new AbortController();
    const cancelled = cancellableSleep(60_000, ac.signal);
    const quiet = sleep(60_000, ac.signal);
    ac.abort();
    await expect(cancelled).rejects.toThrow(/cancelled/);
    await expect(quiet).resolves.toBeUndefined();
  });
});

describe("provision helpers", () => {
  it("one port per peer, or one flow-based port for the first host of a VNI; names fit IFNAMSIZ", () => {
    expect(vxlanPorts(16_777_215, ["10.0.0.2"])).toEqual([["vx16777215-0", "10.0.0.2"]]);
    expect(vxlanPorts(6100, [])).toEqual([["vx6100", "flow"]]);
  });

  it("reads taps from virsh domiflist", () => {
    const text = " Interface   Type     Source   Model    MAC\n-----------------------------------------------------------\n vnet3       bridge   br0      virtio   52:54:00:12:34:56\n";
    expect(parseDomiflist(text)).toEqual([{ device: "vnet3", source: "br0", mac: "52:54:00:12:34:56" }]);
  });

  it("finds a MAC's complete entry in /proc/net/arp, skipping incomplete and hostile lines", () => {
    const table = [
      "IP address       HW type     Flags       HW address            Mask     Device",
      "172.16.10.117    0x1         0x0         00:00:00:00:00:00     *        acc10",
      "172.16.10.118    0x1         0x0         52:54:00:81:08:2f     *        acc10",
      "not-an-ip        0x1         0x2         52:54:00:81:08:2f     *        acc10",
      "172.16.10.119    0x1         0x2         52:54:00:81:08:2F     *        acc10",
      "10.77.0.12       0x1         0x2         aa:d1:72:08:2d:73     *        eth0",
    ].join("\n");
    expect(arpAddress(table, ["52:54:00:81:08:2f"])).toEqual({ ip: "172.16.10.119", mac: "52:54:00:81:08:2f", device: "acc10" });
    expect(arpAddress(table, ["52:54:00:00:00:01"])).toBeNull();
    expect(arpAddress(table, ["garbage"])).toBeNull();
    expect(arpAddress("", ["52:54:00:81:08:2f"])).toBeNull();
  });
});
