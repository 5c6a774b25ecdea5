import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STATS_LIMITS, StatsCounters } from "@nimbus/domain";
import { deviceKey, parseDiskstats, parseDomainCounters, parseLinkCounters } from "../../../src/real/parse/stats.js";
import { RealStatsDriver } from "../../../src/real/stats.js";
import { Tool } from "../../../src/real/tool.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

/** A tool that answers from text (or fails), recording what it was asked. */
const fakeTool = (answer: (args: string[]) => string) => {
  const calls: string[][] = [];
  const tool = {
    run: async (args: string[]) => {
      calls.push(args);
      return answer(args);
    },
  } as unknown as Tool;
  return { tool, calls };
};

describe("ip -s -d -j link show", () => {
  it("a hypervisor in the real lab: its bridge and its uplink veth, not loopback, VM taps or the VXLAN port", () => {
    // ip -j -d link and ip -j -s link captured from the same namespace, joined by name.
    expect(parseLinkCounters(sample("iproute2-ip-s-d-j-link-show.merged.json"))).toEqual([
      { name: "eth0", kind: "veth", master: null, rxBytes: 1569651, txBytes: 1559582 },
      { name: "br0", kind: "bridge", master: null, rxBytes: 2804, txBytes: 1878 },
    ]);
  });
  it("a plain machine: its ethernet interface is physical; ifb devices are left out", () => {
    const links = parseLinkCounters(sample("iproute2-ip-s-d-j-link-show-host.json"));
    expect(links.map((l) => [l.name, l.kind])).toEqual([["eth0", "physical"]]);
    expect(links[0]!.rxBytes).toBeGreaterThan(0);
  });
  it("reads older iproute2's `stats` and keeps an interface's bridge", () => {
    const text = JSON.stringify([
      { ifname: "enp1s0", link_type: "ether", master: "br0", stats: { rx: { bytes: 10 }, tx: { bytes: 20 } } },
      { ifname: "ovs-system", link_type: "ether", linkinfo: { info_kind: "openvswitch" }, stats64: { rx: { bytes: 0 }, tx: { bytes: 0 } } },
      { ifname: "br-pa", link_type: "ether", linkinfo: { info_kind: "openvswitch" }, stats64: { rx: { bytes: 1 }, tx: { bytes: 2 } } },
    ]);
    expect(parseLinkCounters(text)).toEqual([
      { name: "enp1s0", kind: "physical", master: "br0", rxBytes: 10, txBytes: 20 },
      { name: "br-pa", kind: "ovs-internal", master: null, rxBytes: 1, txBytes: 2 },
    ]);
  });
  it("keeps at most STATS_LIMITS.interfaces, uplinks first", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ ifname: `veth${i}`, link_type: "ether", master: "docker0", linkinfo: { info_kind: "veth" }, stats64: { rx: { bytes: i }, tx: { bytes: i } } }));
    many.push({ ifname: "zz-uplink", link_type: "ether", stats64: { rx: { bytes: 1 }, tx: { bytes: 1 } } } as never);
    const out = parseLinkCounters(JSON.stringify(many));
    expect(out).toHaveLength(STATS_LIMITS.interfaces);
    expect(out[0]!.name).toBe("zz-uplink");
  });
  it("refuses counters that are not whole non-negative numbers, and links without counters", () => {
    const link = (rx: unknown) => JSON.stringify([{ ifname: "eth0", link_type: "ether", stats64: { rx: { bytes: rx }, tx: { bytes: 1 } } }]);
    expectUnparseable(() => parseLinkCounters(link(-5)), "ip -s -d link");
    expectUnparseable(() => parseLinkCounters(link(1.5)), "ip -s -d link");
    expectUnparseable(() => parseLinkCounters(link("12")), "ip -s -d link");
    expectUnparseable(() => parseLinkCounters(link(2 ** 64)), "ip -s -d link");
    expectUnparseable(() => parseLinkCounters(JSON.stringify([{ ifname: "eth0", link_type: "ether" }])), "ip -s -d link", /no counters/);
    expectUnparseable(() => parseLinkCounters("Device \"x\" does not exist."), "ip -s -d link");
  });
});

describe("virsh domstats --cpu-total --interface --block --balloon", () => {
  it("a running KVM guest (libvirt 9): CPU time, vif and disk bytes, resident memory", () => {
    expect(parseDomainCounters(sample("virsh-qemu-domstats.txt"))).toEqual([
      { name: "pa-vm1", cpuTimeNs: 580000000, netRxBytes: 90, netTxBytes: 300, diskReadBytes: 0, diskWriteBytes: 0, memoryRssKiB: 41780 },
    ]);
  });
  it("a driver that counts no CPU time (libvirt's test driver) gives no counters rather than zeros", () => {
    expect(parseDomainCounters(sample("virsh-test-domstats.txt"))).toEqual([]);
  });
  it("sums every vif and disk; a device without the field (an empty CD-ROM) adds nothing", () => {
    const text = [
      "Domain: 'web 1'",
      "  cpu.time=10",
      "  net.count=2",
      "  net.0.rx.bytes=5",
      "  net.0.tx.bytes=6",
      "  net.1.rx.bytes=50",
      "  net.1.tx.bytes=60",
      "  block.count=2",
      "  block.0.name=vda",
      "  block.0.rd.bytes=100",
      "  block.0.wr.bytes=200",
      "  block.1.name=sda",
      "",
    ].join("\n");
    expect(parseDomainCounters(text)).toEqual([{ name: "web 1", cpuTimeNs: 10, netRxBytes: 55, netTxBytes: 66, diskReadBytes: 100, diskWriteBytes: 200, memoryRssKiB: null }]);
  });
  it("refuses hostile values: negative, fractional or huge counters, and a count beyond what it lists", () => {
    const dom = (...lines: string[]) => ["Domain: 'x'", "  cpu.time=1", ...lines.map((l) => `  ${l}`), ""].join("\n");
    expectUnparseable(() => parseDomainCounters(dom("net.count=1", "net.0.rx.bytes=-4")), "virsh domstats", /net\.0\.rx\.bytes/);
    expectUnparseable(() => parseDomainCounters(dom("block.count=1", "block.0.rd.bytes=1.5")), "virsh domstats");
    expectUnparseable(() => parseDomainCounters(dom("block.count=1", "block.0.wr.bytes=99999999999999999999")), "virsh domstats");
    expectUnparseable(() => parseDomainCounters(["Domain: 'x'", "  cpu.time=NaN", ""].join("\n")), "virsh domstats", /cpu\.time/);
    expectUnparseable(() => parseDomainCounters(dom("net.count=4000000000")), "virsh domstats", /more than it lists/);
    expectUnparseable(() => parseDomainCounters("error: failed to connect to the hypervisor\n"), "virsh domstats");
  });
});

describe("/proc/diskstats", () => {
  it("bytes read and written per device from the sectors columns (this machine's capture)", () => {
    const devices = parseDiskstats(sample("proc-diskstats.txt"));
    expect(devices.get("254:0")).toEqual({ readBytes: 496536263 * 512, writeBytes: 298965549 * 512 });
    expect(devices.get("7:1")).toEqual({ readBytes: 0, writeBytes: 0 });
  });
  it("refuses short lines and counters that are not whole numbers", () => {
    expectUnparseable(() => parseDiskstats("   8 0 sda 1 2 3\n"), "/proc/diskstats", /too few/);
    expectUnparseable(() => parseDiskstats("   8 0 sda 1 2 -3 4 5 6 7 8 9 10 11\n"), "/proc/diskstats", /field 6/);
    expectUnparseable(() => parseDiskstats(`   8 0 sda 1 2 ${"9".repeat(20)} 4 5 6 7 8 9 10 11\n`), "/proc/diskstats");
  });
  it("a stat(2) device number as diskstats names it (glibc's encoding, large minors too)", () => {
    expect(deviceKey(65024n)).toBe("254:0");
    expect(deviceKey(2049n)).toBe("8:1");
    // makedev(259, 300): minor bits above 255 live above bit 20.
    expect(deviceKey((259n << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n))).toBe("259:300");
  });
});

describe("the real stats driver", () => {
  it("an NFS server reports the I/O of the device each export lives on; an export on no listed device is left out", async () => {
    const proc = mkdtempSync(join(tmpdir(), "nimbus-proc-"));
    try {
      const [major, minor] = deviceKey(statSync(proc, { bigint: true }).dev).split(":");
      writeFileSync(join(proc, "stat"), sample("proc-stat.txt"));
      writeFileSync(join(proc, "diskstats"), ` ${major} ${minor} sdz 10 0 2000 0 5 0 400 0 0 0 0 0 0 0 0 0 0\n`);
      const counters = await new RealStatsDriver({ ip: null, virsh: null }, proc, [
        { path: "/instance", local: proc },
        { path: "/gone", local: join(proc, "missing") },
      ]).read();
      expect(counters.datastores).toEqual([{ path: "/instance", readBytes: 2000 * 512, writeBytes: 400 * 512 }]);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it("reads /proc/stat, this machine's real `ip`, and virsh for every running domain in one call", async () => {
    const virsh = fakeTool(() => sample("virsh-qemu-domstats.txt"));
    const ip = new Tool("ip", { path: "ip", args: [], env: {} });
    const counters = await new RealStatsDriver({ ip, virsh: virsh.tool }, "/proc").read();
    expect(StatsCounters.safeParse(counters).success).toBe(true);
    expect(counters.cpu!.total).toBeGreaterThan(counters.cpu!.busy);
    expect(counters.interfaces.some((i) => i.name === "lo")).toBe(false);
    expect(counters.domains.map((d) => d.name)).toEqual(["pa-vm1"]);
    expect(virsh.calls).toEqual([["domstats", "--list-running", "--cpu-total", "--interface", "--block", "--balloon"]]);
  });
  it("libvirtd down: the host's own counters still go out; every part failing is an error", async () => {
    const down = fakeTool(() => {
      throw new Error("virsh: error: failed to connect to the hypervisor");
    });
    const partial = await new RealStatsDriver({ ip: null, virsh: down.tool }, "/proc").read();
    expect(partial.domains).toEqual([]);
    expect(partial.cpu).not.toBeNull();
    const noIp = fakeTool(() => "not json");
    await expect(new RealStatsDriver({ ip: noIp.tool, virsh: down.tool }, "/nonexistent-proc").read()).rejects.toThrow(/nonexistent-proc/);
  });
});
