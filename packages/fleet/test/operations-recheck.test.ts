import { AgentErrorCode, NimbusError, type PreflightCheck } from "@nimbus/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job, vm } from "./helpers/fake-fleet.js";

/** The preflight re-run on both agents right before a migration starts (the inventory may be stale). */
let fleet: FakeFleet;
let store: MemoryOperationStore;
let ops: OperationManager;

const pass = (host: string): PreflightCheck[] => [{ id: "agent-source", label: host, result: "pass", reason: "ok" }];
const answers = new Map<string, (host: string, params: any) => unknown>();

beforeEach(async () => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  answers.clear();
  fleet.put(hypervisor("kvm1", [vm("web-1", { tenant: "acme" })]));
  fleet.put(hypervisor("kvm2"));
  fleet.handlers.set("virt.preflight", (host, params) => (answers.get(host) ?? ((h: string) => ({ host: h, checks: pass(h) })))(host, params));
  fleet.handlers.set("virt.migrate", (_h, p: { jobId: string }) => ({ jobId: p.jobId }));
  fleet.handlers.set("job.list", () => []);
  let n = 0;
  ops = new OperationManager(fleet, store, { newId: () => `op-${++n}`, tenantVni: () => null });
  await ops.start();
});
afterEach(() => ops.stop());

const migrate = () => ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
const refusal = (p: Promise<unknown>) => p.then(() => null, (e: NimbusError) => e);

describe("preflight re-run on the agents at start", () => {
  it("asks the source about the VM and the destination about RAM, NICs and disk paths, then starts", async () => {
    await migrate();
    const asked = fleet.sent.filter((s) => s.method === "virt.preflight");
    expect(asked).toEqual([
      { host: "kvm1", method: "virt.preflight", params: { role: "source", domain: "web-1", destination: "kvm2" } },
      {
        host: "kvm2",
        method: "virt.preflight",
        params: {
          role: "destination", domain: "web-1", source: "kvm1", memoryMiB: 1024, memoryHeadroomMiB: 512,
          nics: [{ mac: "52:54:00:aa:00:01", bridge: "br0", bridgeType: "linux", vlan: null }], diskPaths: ["/instance/web-1.qcow2"],
        },
      },
    ]);
    expect(fleet.sent.at(-1)?.method).toBe("virt.migrate");
  });

  it("refuses when the destination sees less RAM than the inventory said; nothing is recorded or started", async () => {
    answers.set("kvm2", (host) => ({ host, checks: [{ id: "agent-memory", label: "Memory on kvm2 (now)", result: "fail", reason: "needs 1024 MiB; kvm2 has 300 MiB free after 512 MiB headroom" }] }));
    const err = await refusal(migrate());
    expect(err).toMatchObject({ code: "PRECONDITION_FAILED", message: "cannot migrate web-1 to kvm2: needs 1024 MiB; kvm2 has 300 MiB free after 512 MiB headroom" });
    expect(err?.details?.checks).toEqual([expect.objectContaining({ id: "agent-memory" })]);
    expect(fleet.sent.some((s) => s.method === "virt.migrate")).toBe(false);
    expect(await store.list({ limit: 10 })).toEqual([]);
  });

  it("refuses when the source says the VM stopped meanwhile", async () => {
    answers.set("kvm1", (host) => ({ host, checks: [{ id: "agent-source", label: host, result: "fail", reason: "web-1 is shutoff on kvm1; only running VMs live-migrate" }] }));
    expect((await refusal(migrate()))?.message).toBe("cannot migrate web-1 to kvm2: web-1 is shutoff on kvm1; only running VMs live-migrate");
  });

  it("refuses when a host cannot answer (libvirtd down), naming it", async () => {
    answers.set("kvm2", () => {
      throw new NimbusError("TOOL_FAILED", "kvm2: virt.preflight failed: failed to connect to the hypervisor", { agentCode: AgentErrorCode.toolFailed });
    });
    expect((await refusal(migrate()))?.message).toBe("cannot migrate web-1 to kvm2: kvm2 could not re-check the migration: kvm2: virt.preflight failed: failed to connect to the hypervisor");
  });

  it("only warns for an older agent that does not know virt.preflight, and starts", async () => {
    answers.set("kvm2", () => {
      throw new NimbusError("PROTOCOL_MISMATCH", "kvm2: virt.preflight failed: unknown method virt.preflight", { agentCode: AgentErrorCode.methodNotFound });
    });
    expect(await migrate()).toMatchObject({ state: "running" });
  });

  it("lets only one of two simultaneous starts through while the agents are asked", async () => {
    const [a, b] = await Promise.allSettled([migrate(), migrate()]);
    expect(a.status).toBe("fulfilled");
    expect(b).toMatchObject({ status: "rejected", reason: { code: "CONFLICT" } });
    expect(fleet.sent.filter((s) => s.method === "virt.migrate")).toHaveLength(1);
  });

  it("records the evacuation a migration belongs to", async () => {
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice", null, { maintenanceId: "m-1" });
    expect(op.params.maintenanceId).toBe("m-1");
    fleet.job("kvm1", job(op.id, "succeeded"));
  });
});
