import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentErrorCode, MigrateOptions, VirtSection } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { Tool } from "../../src/real/tool.js";
import { RealVirtDriver } from "../../src/real/virt.js";

// libvirt's test driver: a real virsh and libvirt, with a built-in "test" domain. Its state
// lives in each virsh process, so only reads and failures can be checked here; the real lab
// runs the full driver contract against libvirtd + QEMU.
const cfg = AgentConfig.parse({});
const virsh = new Tool("virsh", { path: "virsh", args: ["-c", "test:///default"], env: {} });
const driver = () => new RealVirtDriver("kvm-test", virsh, cfg.virt, silentLog);
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;

describe("RealVirtDriver on libvirt's test driver", () => {
  it("reads the domains, their XML facts and the pool of their disks", async () => {
    const section = VirtSection.parse(await driver().snapshot());
    expect(section.hypervisor).toBe("TEST 0.0.2");
    expect(section.domains).toEqual([
      expect.objectContaining({
        name: "test",
        state: "running",
        vcpus: 2,
        memoryMiB: 8192,
        persistent: true,
        autostart: false,
        disks: [{ target: "vda", path: "/guest/diskimage1", pool: null, capacityBytes: null }],
        nics: [expect.objectContaining({ mac: "aa:bb:cc:dd:ee:ff", bridge: "default", device: "testnet0" })],
      }),
    ]);
  });
  it("power on a missing domain is notFound naming the host", async () => {
    const e = await reject(driver().power("nope", "start"));
    expect(e).toBeInstanceOf(AgentError);
    expect(e.code).toBe(AgentErrorCode.notFound);
    expect(e.message).toMatch(/nope on kvm-test/);
  });
  it("starting a running domain is a conflict", async () => {
    const e = await reject(driver().power("test", "start"));
    expect(e.code).toBe(AgentErrorCode.conflict);
  });
  it("a migration to a destination that cannot be reached rejects as toolFailed and names both hosts", async () => {
    const reports: unknown[] = [];
    const e = await reject(
      driver().migrate(
        { jobId: "j", domain: "test", destination: { host: "kvm2", uri: "test:///nonexistent/nimbus-missing.xml" }, options: MigrateOptions.parse({}) },
        { report: (p) => reports.push(p), signal: new AbortController().signal },
      ),
    );
    expect(e.code).toBe(AgentErrorCode.toolFailed);
    expect(e.message).toMatch(/migration of test from kvm-test to kvm2 failed: .*nimbus-missing/);
    expect(e.message).toMatch(/stays on kvm-test/);
    expect(reports).toEqual([expect.objectContaining({ phase: "preparing", percent: 0 })]);
  });
});


describe("RealVirtDriver on libvirt's test driver with names virsh misreads", () => {
  // A test-driver node whose names broke the driver: virsh's table prints the first escaped
  // under LC_ALL=C, "5" is looked up as an id, "--inactive" and "--all" parse as options.
  const dir = mkdtempSync(join(tmpdir(), "nimbus-virt-names-"));
  const node = join(dir, "node.xml");
  const vm = (name: string, n: number, disk = "") =>
    `<domain type='test'><name>${name}</name><uuid>0b4e1a52-0000-4000-8000-00000000000${n}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>${disk}</devices></domain>`;
  writeFileSync(
    node,
    `<node><cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active></cpu><memory>8388608</memory>
${vm("café-ünïcode", 1, "<disk type='file' device='disk'><source file='/guest/a.img'/><target dev='vda' bus='virtio'/></disk>")}${vm("5", 2)}${vm("--inactive", 3)}
<pool type='dir'><name>--all</name><uuid>7c0d9f10-0000-4000-8000-000000000001</uuid><target><path>/guest</path></target></pool></node>`,
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const named = () => new RealVirtDriver("kvm-test", new Tool("virsh", { path: "virsh", args: ["-c", `test://${node}`], env: {} }), cfg.virt, silentLog);

  it("lists every domain under its real name, with the pool of its disk", async () => {
    const section = VirtSection.parse(await named().snapshot());
    expect(section.domains.map((d) => d.name)).toEqual(["café-ünïcode", "5", "--inactive"]);
    expect(section.domains[0]!.disks).toEqual([expect.objectContaining({ path: "/guest/a.img", pool: "--all" })]);
  });
  it("acts on the domain named 5 and on --inactive", async () => {
    await named().power("5", "destroy");
    await named().power("--inactive", "destroy");
    const e = await reject(named().power("5", "start"));
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toBe("domain 5 on kvm-test: the VM is already running");
  });
});
