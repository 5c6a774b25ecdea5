import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentErrorCode, SnapshotListResult } from "@nimbus/domain";
import type { AgentError } from "../../src/errors.js";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { Tool } from "../../src/real/tool.js";
import { RealVirtDriver } from "../../src/real/virt.js";

// libvirt's test driver keeps its state per virsh process, so every call below starts from this
// node: web1 (qcow2, one snapshot taken while off) and raw1 (a raw disk). Each request is checked
// against a real virsh and libvirt: its argv parses, and libvirt's answers and errors are read.
const dir = mkdtempSync(join(tmpdir(), "nimbus-virt-snap-"));
const node = join(dir, "node.xml");
const vm = (name: string, n: number, format: string, extra = "") =>
  `<domain type='test'><name>${name}</name><uuid>0b4e1a52-0000-4000-8000-00000000001${n}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='/guest/${name}'/><target dev='vda' bus='virtio'/></disk></devices>${extra}</domain>`;
writeFileSync(
  node,
  `<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active></cpu><memory>8388608</memory>
${vm("web1", 1, "qcow2", `<test:domainsnapshot><name>before-upgrade</name><description>clean install</description><state>shutoff</state><creationTime>1767225600</creationTime><memory snapshot='no'/>${vm("web1", 1, "qcow2")}<active>0</active></test:domainsnapshot>`)}
${vm("raw1", 2, "raw")}</node>`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = AgentConfig.parse({});
const snapshots = () => new RealVirtDriver("kvm-test", new Tool("virsh", { path: "virsh", args: ["-c", `test://${node}`], env: {} }), cfg.virt, silentLog).snapshots;
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;

describe("RealVirtDriver snapshots on libvirt's test driver", () => {
  it("lists a qcow2 VM's snapshots with their time, VM state and description", async () => {
    const r = SnapshotListResult.parse(await snapshots().list("web1"));
    expect(r).toEqual({
      allowed: { ok: true },
      snapshots: [{ name: "before-upgrade", description: "clean install", state: "shutoff", createdAt: "2026-01-01T00:00:00.000Z", current: false }],
    });
  });
  it("says why a VM with a raw disk cannot have snapshots", async () => {
    const r = await snapshots().list("raw1");
    expect(r).toEqual({ allowed: { ok: false, reason: expect.stringMatching(/need qcow2.*vda is raw/) }, snapshots: [] });
  });
  it("takes a snapshot of a running VM (memory included) as the current one, a description that looks like an option kept as text", async () => {
    const s = await snapshots().create({ domain: "web1", name: "s2", description: "--atomic test" });
    expect(s).toEqual({ name: "s2", description: "--atomic test", state: "running", createdAt: expect.stringMatching(/^\d{4}-/), current: true });
  });
  it("refuses a snapshot of a raw disk up front, with the reason", async () => {
    const e = await reject(snapshots().create({ domain: "raw1", name: "s", description: "" }));
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toMatch(/raw1 on kvm-test cannot take a snapshot: snapshots need qcow2/);
  });
  it("a name already taken is a conflict in words", async () => {
    const e = await reject(snapshots().create({ domain: "web1", name: "before-upgrade", description: "" }));
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toMatch(/already exists; pick another name/);
  });
  it("takes a snapshot without a description (virsh refuses an empty --description)", async () => {
    await expect(snapshots().create({ domain: "web1", name: "s3", description: "" })).resolves.toMatchObject({ name: "s3", description: "" });
  });
  it("reverts to and deletes an existing snapshot", async () => {
    await expect(snapshots().revert({ domain: "web1", name: "before-upgrade" })).resolves.toBeUndefined();
    await expect(snapshots().delete({ domain: "web1", name: "before-upgrade" })).resolves.toBeUndefined();
  });
  it("a missing snapshot or VM is notFound, named", async () => {
    const missingSnap = await reject(snapshots().revert({ domain: "web1", name: "nope" }));
    expect(missingSnap.code).toBe(AgentErrorCode.notFound);
    expect(missingSnap.message).toBe("snapshot nope of domain web1 on kvm-test not found");
    const missingVm = await reject(snapshots().delete({ domain: "gone", name: "s" }));
    expect(missingVm.code).toBe(AgentErrorCode.notFound);
    expect(missingVm.message).toMatch(/gone on kvm-test not found/);
  });
});

describe("RealVirtDriver virt section: snapshots ride the inventory, read again only when they change", () => {
  class CountingTool extends Tool {
    readonly calls: string[][] = [];
    override run(args: string[], opts?: Parameters<Tool["run"]>[1]) {
      this.calls.push(args);
      return super.run(args, opts);
    }
  }
  it("reports each domain's snapshots with the qcow2 rule's verdict; an unchanged list costs one snapshot-list, not the XML again", async () => {
    const virsh = new CountingTool("virsh", { path: "virsh", args: ["-c", `test://${node}`], env: {} });
    const driver = new RealVirtDriver("kvm-test", virsh, cfg.virt, silentLog);
    const first = await driver.snapshot();
    const byName = new Map(first.domains.map((d) => [d.name, d.snapshots]));
    expect(byName.get("web1")).toEqual({
      allowed: { ok: true },
      items: [{ name: "before-upgrade", description: "clean install", state: "shutoff", createdAt: "2026-01-01T00:00:00.000Z", current: false }],
      total: 1,
    });
    expect(byName.get("raw1")).toEqual({ allowed: { ok: false, reason: expect.stringMatching(/vda is raw/) }, items: [], total: 0 });
    const dumps = () => virsh.calls.filter((a) => a[0] === "snapshot-dumpxml").length;
    expect(dumps()).toBe(1);
    const second = await driver.snapshot();
    expect(second.domains.find((d) => d.name === "web1")!.snapshots).toEqual(byName.get("web1"));
    expect(dumps()).toBe(1);
    expect(virsh.calls.filter((a) => a[0] === "snapshot-list").length).toBe(4);
    // Every argument list names the domain by UUID and options as --opt=value.
    for (const a of virsh.calls.filter((c) => c[0]!.startsWith("snapshot-"))) expect(a.some((x) => /^--domain=0b4e1a52-/.test(x))).toBe(true);
  });
});
