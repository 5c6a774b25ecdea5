import { describe, expect, it } from "vitest";
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

