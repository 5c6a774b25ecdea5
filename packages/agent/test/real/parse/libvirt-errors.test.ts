import { describe, expect, it } from "vitest";
import { AgentErrorCode, MigrateOptions } from "@nimbus/domain";
import { AgentError } from "../../../src/errors.js";
import { AgentConfig } from "../../../src/real/config.js";
import { silentLog } from "../../../src/real/log.js";
import { migrateDomain } from "../../../src/real/migrate.js";
import { classifyLibvirt, virshError } from "../../../src/real/parse/libvirt-errors.js";
import { toolFailed } from "../../../src/real/run.js";
import type { Tool } from "../../../src/real/tool.js";

const virshFailed = (stderr: string) => toolFailed({ tool: "virsh", args: ["start", "--", "u"], exitCode: 1, stderr });

describe("libvirt errors in words", () => {
  const cases: [string, string, (typeof AgentErrorCode)[keyof typeof AgentErrorCode], RegExp][] = [
    ["unsafe migration", "error: Unsafe migration: Migration without shared storage is unsafe\n", AgentErrorCode.conflict, /not on shared storage that both hosts see/],
    ["unsafe cache", "error: Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync\n", AgentErrorCode.conflict, /cache mode/],
    ["unsupported", "error: this function is not supported by the connection driver: virDomainMigrateSetMaxDowntime\n", AgentErrorCode.unsupported, /does not support it/],
    ["not found", "error: failed to get domain 'x'\n", AgentErrorCode.notFound, /not defined/],
    ["state lock", "error: Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainMigratePerform3Params)\n", AgentErrorCode.conflict, /another libvirt operation/],
    ["timeout", "error: operation timed out\n", AgentErrorCode.toolFailed, /timed out/],
    ["already running", "error: Failed to start domain 'test'\nerror: Requested operation is not valid: domain is already running\n", AgentErrorCode.conflict, /already running/],
    ["not running", "error: Failed to shutdown domain 'x'\nerror: Requested operation is not valid: domain is not running\n", AgentErrorCode.conflict, /not running/],
    ["cpu", "error: operation failed: guest CPU doesn't match specification: missing features: avx512f\n", AgentErrorCode.conflict, /CPU lacks features/],
    ["daemon down", "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n", AgentErrorCode.toolFailed, /could not be reached/],
    ["unknown", "error: internal error: something new\n", AgentErrorCode.toolFailed, /^libvirt said: internal error: something new$/],
  ];
  for (const [name, stderr, code, reason] of cases)
    it(`${name}: ${code}`, () => {
      const f = classifyLibvirt(stderr);
      expect(f.code).toBe(code);
      expect(f.reason).toMatch(reason);
      expect(f.reason).not.toMatch(/^error:|failed: error:/);
    });

  it("a virsh failure becomes a typed error naming the object, keeping what virsh said as data", () => {
    const e = virshError(virshFailed("error: Failed to start domain 'web1'\nerror: Requested operation is not valid: domain is already active\n"), "domain web1 on kvm1") as AgentError;
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toBe("domain web1 on kvm1: the VM is already running");
    expect(e.data).toMatchObject({ tool: "virsh", libvirt: "Requested operation is not valid: domain is already active" });
  });

  it("a killed or timed-out virsh keeps run.ts's own words", () => {
    const killed = toolFailed({ tool: "virsh", args: ["migrate"], exitCode: null, stderr: "", reason: "timed out after 30000 ms" });
    expect(virshError(killed, "x")).toBe(killed);
  });

  it("a 4 MB libvirt message is cut", () => {
    const f = classifyLibvirt(`error: internal error: ${"x".repeat(4_000_000)}\n`);
    expect(f.reason.length).toBeLessThan(400);
  });
});

describe("a migration refused by libvirt", () => {
  const uuid = "60e025f5-28a4-48d2-89b6-08076bc1fa91";
  const virsh = (stderr: string) =>
    ({
      run: async (args: string[]) => {
        if (args[0] === "list") return `${uuid} pa-vm1\n`;
        if (args[0] === "domstate") return "running (booted)\n";
        if (args[0] === "migrate") throw toolFailed({ tool: "virsh", args, exitCode: 1, stderr });
        return "";
      },
    }) as unknown as Tool;
  const migrate = (stderr: string) =>
    migrateDomain(
      { host: "kvm1", virsh: virsh(stderr), cfg: { ...AgentConfig.parse({}).virt, progressIntervalMs: 0 }, log: silentLog },
      { jobId: "j", domain: "pa-vm1", destination: { host: "kvm2", uri: "qemu+ssh://kvm2/system" }, options: MigrateOptions.parse({}) },
      { report: () => undefined, signal: new AbortController().signal },
    ).then(
      () => expect.fail("the migration should have been refused"),
      (e: unknown) => e as AgentError,
    );

  it("without shared storage says so in words, not 'failed: error: ...'", async () => {
    const e = await migrate("error: Unsafe migration: Migration without shared storage is unsafe\n");
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toBe(
      "migration of pa-vm1 from kvm1 to kvm2 failed: its disk is not on shared storage that both hosts see, and libvirt refuses to live-migrate such a VM; move the disk to a datastore mounted on both hosts first; the VM stays on kvm1",
    );
    expect(e.data?.libvirt).toBe("Unsafe migration: Migration without shared storage is unsafe");
  });

  it("on a hypervisor that cannot migrate is unsupported", async () => {
    const e = await migrate("error: this function is not supported by the connection driver: virDomainMigratePrepare3Params\n");
    expect(e.code).toBe(AgentErrorCode.unsupported);
    expect(e.message).not.toMatch(/error:/);
  });
});
