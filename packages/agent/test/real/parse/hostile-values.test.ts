import { describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError, MESSAGE_MAX } from "../../../src/errors.js";
import { parseServiceLs, parseNodeLs, parseServiceInspect } from "../../../src/real/parse/docker.js";
import { parseDomainXml } from "../../../src/real/parse/domain-xml.js";
import { parseIpLink } from "../../../src/real/parse/ip.js";
import { parseOvsInterfaces } from "../../../src/real/parse/ovs.js";
import { parseUptime, parseProcStat } from "../../../src/real/parse/proc.js";
import { parseDf } from "../../../src/real/parse/storage.js";
import { blockCapacities, parseDominfo, parseDomjobinfo, parseDomstats, parseNodeinfo } from "../../../src/real/parse/virsh.js";
import { parseBlockjobRaw, parseQemuImgInfo } from "../../../src/real/virt-disk-parse.js";
import { toolFailed } from "../../../src/real/run.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

// Outputs no tool printed in our samples, as a broken or hostile host could: each is a typed
// unparseable error with a short message, never a TypeError, NaN, a silent 0 or a 4 MB error.

const thrown = (fn: () => unknown): AgentError => {
  try {
    fn();
  } catch (e) {
    return e as AgentError;
  }
  throw new Error("expected a throw");
};

describe("OVSDB cells", () => {
  const iface = (status: string) =>
    `{"headings":["_uuid","name","type","options","external_ids","mtu","link_state","status"],"data":[[["uuid","u1"],"vnet0","",["map",[]],["map",[]],1500,"up",${status}]]}`;
  it('["map",[null]] is a typed error', () => expectUnparseable(() => parseOvsInterfaces(iface('["map",[null]]')), "ovs-vsctl list Interface", /map entry/));
  it('["map",[["k"]]] is a typed error', () => expectUnparseable(() => parseOvsInterfaces(iface('["map",[["k"]]]')), "ovs-vsctl list Interface", /map entry/));
  it("a map value that is itself a set is a typed error", () =>
    expectUnparseable(() => parseOvsInterfaces(iface('["map",[["k",["set",[1]]]]]')), "ovs-vsctl list Interface", /OVDSB|OVSDB value/));
  it("deeply nested sets are a typed error, not a stack overflow", () => {
    const deep = `${'["set",['.repeat(20_000)}1${"]]".repeat(20_000)}`;
    expectUnparseable(() => parseOvsInterfaces(iface(deep)), "ovs-vsctl list Interface");
  });
  it('a map key "__proto__" is a key like any other', () => {
    const [i] = parseOvsInterfaces(iface('["map",[["__proto__","x"],["tunnel_egress_iface_carrier","up"]]]'));
    expect(Object.getPrototypeOf(i!.status)).toBe(Object.prototype);
    expect(Object.keys(i!.status)).toEqual(["__proto__", "tunnel_egress_iface_carrier"]);
  });
});

describe("lookups by a foreign word", () => {
  it('an interface kind "constructor" is "other", not a function', () => {
    const [link] = parseIpLink('[{"ifname":"x","flags":["UP"],"linkinfo":{"info_kind":"constructor"}}]');
    expect(link!.kind).toBe("other");
  });
});

describe("error messages are bounded", () => {
  const huge = "x".repeat(4 * 1024 * 1024);
  const bounded = (e: AgentError) => {
    expect(e).toBeInstanceOf(AgentError);
    expect(e.code).toBe(AgentErrorCode.unparseable);
    expect(e.message.length).toBeLessThan(600);
    expect(JSON.stringify(e.data).length).toBeLessThan(1200);
  };
  it("a 4 MB replica field", () => bounded(thrown(() => parseServiceLs(`{"ID":"a","Name":"b","Mode":"replicated","Replicas":"${huge}","Image":"i"}`))));
  it("a 4 MB availability", () => bounded(thrown(() => parseNodeLs(`{"ID":"a","Hostname":"h","Availability":"${huge}","Status":"Ready","ManagerStatus":""}`))));
  it("a 4 MB label key in a bad label", () => bounded(thrown(() => parseServiceInspect(`[{"ID":"a","Spec":{"Name":"b","Labels":{"${huge}":1}}}]`))));
  it("a 4 MB size", () => bounded(thrown(() => parseDominfo(sample("virsh-test-dominfo.txt").replace("8388608 KiB", `${huge} KiB`)))));
  it("a 4 MB domstats line", () => bounded(thrown(() => parseDomstats(`Domain: 'a'\n${huge}\n`))));
  it("a 4 MB df line", () => bounded(thrown(() => parseDf(`1B-blocks Used Mounted on\n${huge}\n`))));
  it("a 4 MB tool failure", () => {
    const e = toolFailed({ tool: "virsh", args: [huge, "b"], exitCode: 1, stderr: `error: ${huge}` });
    expect(e.message.length).toBeLessThanOrEqual(MESSAGE_MAX + 40);
    expect(JSON.stringify(e.data).length).toBeLessThan(2000);
  });
});

describe("numbers are strict", () => {
  it('"1.2.3 KiB" is not a size (it was NaN)', () => expectUnparseable(() => parseDominfo(sample("virsh-test-dominfo.txt").replace("8388608 KiB", "1.2.3 KiB")), "virsh dominfo", /1\.2\.3/));
  it('"Iteration: 1.5" is not an iteration', () =>
    expectUnparseable(() => parseDomjobinfo("Job type:         Unbounded\nIteration:        1.5\n"), "virsh domjobinfo", /Iteration/));
  it('a "1.2.3 MiB" in domjobinfo is not a number', () =>
    expectUnparseable(() => parseDomjobinfo("Job type:         Unbounded\nData processed:   1.2.3 MiB\n"), "virsh domjobinfo", /1\.2\.3/));
  it("an empty CPU count is not 0", () => expectUnparseable(() => parseNodeinfo(sample("virsh-qemu-nodeinfo.txt").replace(/^CPU\(s\):.*$/m, "CPU(s):")), "virsh nodeinfo", /CPU/));
  it("an empty block count is not 0", () => expectUnparseable(() => blockCapacities(new Map([["block.count", ""]])), "virsh domstats", /block.count/));
  it("a block count beyond the fields is not a billion-step loop", () => expectUnparseable(() => blockCapacities(new Map([["block.count", "1000000000"]])), "virsh domstats", /block.count/));
  it("an empty uptime is not 0 seconds", () => expectUnparseable(() => parseUptime(""), "/proc/uptime"));
  it("an uptime of 1e9 is not a number of seconds", () => expectUnparseable(() => parseUptime("1e9 5"), "/proc/uptime"));
  it("an empty blockjob cur is not 0", () => expectUnparseable(() => parseBlockjobRaw(" type=Copy\n cur=\n end=10\n"), "virsh blockjob", /cur/));
  it("a cpu time of 400 digits is not Infinity", () => expectUnparseable(() => parseProcStat(`cpu  ${"9".repeat(400)} 1 1 1\n`), "/proc/stat"));
  it("a vcpu count of 0 or 2.5 is not a VM", () => {
    expectUnparseable(() => parseDomainXml(sample("virsh-test-dumpxml.xml").replace(/<vcpu([^>]*)>2</, "<vcpu$1>0<")), "virsh dumpxml", /vcpu/);
    expectUnparseable(() => parseDomainXml(sample("virsh-test-dumpxml.xml").replace(/<vcpu([^>]*)>2</, "<vcpu$1>2.5<")), "virsh dumpxml", /vcpu/);
  });
  it("qemu-img info that is JSON but not an object", () => expectUnparseable(() => parseQemuImgInfo("null"), "qemu-img info"));
});
