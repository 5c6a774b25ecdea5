import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { methods, type MigrationProgress, type StorageMoveProgress, type VirtSection } from "@nimbus/domain";
import { AgentError, JobRegistry, serveAgent, type AgentDrivers } from "../../src/index.js";
import { nodeFacts, wire } from "./wire.js";

const facts = nodeFacts("h1");

/** A fake host: drivers that change when the test says so, wired to serveAgent through pipes. */
function harness(opts: { heartbeatMs?: number; withoutPreflight?: boolean } = {}) {
  let virt: VirtSection = { hypervisor: "test", domains: [] };
  const listeners = new Set<() => void>();
  let release: (() => void) | null = null;
  const drivers: AgentDrivers = {
    hostname: "h1",
    node: { snapshot: async () => facts, watch: () => () => {} },
    virt: {
      snapshot: async () => virt,
      watch: (cb) => (listeners.add(cb), () => listeners.delete(cb)),
      migrate: (p, ctx) =>
        new Promise((resolve, reject) => {
          const progress: MigrationProgress = { kind: "migrate", phase: "copying", memoryTotalBytes: 100, memoryProcessedBytes: 50, memoryRemainingBytes: 50, bandwidthBytesPerSec: 1, dirtyRateBytesPerSec: 0, iteration: 1, expectedDowntimeMs: 10, percent: 50, downtimeMs: null };
          ctx.report(progress);
          if (p.domain === "missing") return reject(new AgentError(-32003, "domain missing not found"));
          ctx.signal.addEventListener("abort", () => reject(new Error("migration cancelled")));
          release = () => resolve({ downtimeMs: 12 });
        }),
      power: async () => {},
      preflight: opts.withoutPreflight
        ? undefined
        : async (p) => [{ id: "agent-source", label: "h1", result: p.domain === "gone" ? "fail" : "pass", reason: `${p.role} ${p.domain}` }],
      moveDisk: (p, ctx) =>
        new Promise((resolve) => {
          const progress: StorageMoveProgress = { kind: "storage-move", phase: "copying", mode: "live", bytesTotal: 1000, bytesCopied: 400, bandwidthBytesPerSec: 100, percent: 40 };
          ctx.report(progress);
          releaseMove = () => resolve();
        }),
    },
  };
  let releaseMove: (() => void) | null = null;
  const input = new PassThrough();
  const output = new PassThrough();
  const jobs = new JobRegistry();
  const done = serveAgent({ input, output, drivers, agentVersion: "9.9.9", jobs, pushDelayMs: 1, progressHeartbeatMs: opts.heartbeatMs });
  const { messages, waitFor, call } = wire(input, output);
  return {
    call, waitFor, messages, jobs, input, done,
    change: (next: VirtSection) => { virt = next; for (const l of listeners) l(); },
    finishMigration: () => release?.(),
    finishMove: () => releaseMove?.(),
  };
}

describe("serveAgent", () => {
  it("answers hello with version and capabilities", async () => {
    const h = harness();
    const r = await h.call("hello", { protocol: 1, server: "t" });
    expect(r.result).toMatchObject({ protocol: 1, agentVersion: "9.9.9", hostname: "h1", capabilities: ["virt"] });
  });

  it("pushes a section only after a snapshot, and only when it changed", async () => {
    const h = harness();
    h.change({ hypervisor: "test", domains: [] });
    const snap = await h.call("inventory.snapshot", {});
    expect(snap.result.node.hostname).toBe("h1");
    expect(h.messages.some((m) => m.method === "inventory.section")).toBe(false);
    h.change({ hypervisor: "test2", domains: [] });
    const push = await h.waitFor((m) => m.method === "inventory.section");
    expect(push.params).toEqual({ section: "virt", data: { hypervisor: "test2", domains: [] } });
  });

  it("answers inventory.snapshot with every section, null where the host has no driver, valid by the protocol", async () => {
    const h = harness();
    const snap = await h.call("inventory.snapshot", {});
    expect(snap).toEqual({ jsonrpc: "2.0", id: 1, result: { node: facts, virt: { hypervisor: "test", domains: [] }, net: null, swarm: null, storage: null, checks: null, lb: null } });
    expect(methods["inventory.snapshot"].result.safeParse(snap.result).success).toBe(true);
    h.change({ hypervisor: "test", domains: [] }); // the same as answered: nothing to push
    await new Promise((r) => setTimeout(r, 20));
    expect(h.messages.some((m) => m.method === "inventory.section")).toBe(false);
  });

  it("rejects unknown methods, bad params and garbage with JSON-RPC errors", async () => {
    const h = harness();
    expect((await h.call("nope")).error.code).toBe(-32601);
    expect((await h.call("virt.migrate", { domain: "$(id)" })).error.code).toBe(-32602);
    h.input.write("{not json\n");
    expect((await h.waitFor((m) => m.id === null)).error.code).toBe(-32700);
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])("answers a request for %s (an inherited key) methodNotFound and keeps serving", async (method) => {
    const h = harness();
    const r = await h.call(method, {});
    expect(r.error).toEqual({ code: -32601, message: `unknown method ${JSON.stringify(method)}` });
    expect((await h.call("hello", { protocol: 1, server: "t" })).result.hostname).toBe("h1");
  });

  it("runs a migration as a job: progress, success, listed afterwards", async () => {
    const h = harness();
    await h.call("inventory.snapshot", {});
    const r = await h.call("virt.migrate", { jobId: "op-1", domain: "web1", destination: { host: "kvm2", uri: "qemu+ssh://kvm2/system" }, options: {} });
    expect(r.result).toEqual({ jobId: "op-1" });
    await h.waitFor((m) => m.method === "job.update" && m.params.job.progress?.percent === 50);
    h.finishMigration();
    const done = await h.waitFor((m) => m.method === "job.update" && m.params.job.state === "succeeded");
    expect(done.params.job.progress).toMatchObject({ phase: "done", percent: 100, downtimeMs: 12 });
    expect((await h.call("job.list", {})).result[0]).toMatchObject({ id: "op-1", state: "succeeded" });
  });

  it("cancels a running job; a second cancel is a conflict", async () => {
    const h = harness();
    await h.call("inventory.snapshot", {});
    await h.call("virt.migrate", { jobId: "op-2", domain: "web1", destination: { host: "kvm2", uri: "u" }, options: {} });
    expect((await h.call("job.cancel", { jobId: "op-2" })).result).toEqual({ ok: true });
    const end = await h.waitFor((m) => m.method === "job.update" && m.params.job.state !== "running");
    expect(end.params.job).toMatchObject({ state: "cancelled", error: "migration cancelled" });
    expect((await h.call("job.cancel", { jobId: "op-2" })).error.code).toBe(-32004);
  });

  it("reports a failed job with the driver's message; unsupported capability is a typed error", async () => {
    const h = harness();
    await h.call("inventory.snapshot", {});
    await h.call("virt.migrate", { jobId: "op-3", domain: "missing", destination: { host: "kvm2", uri: "u" }, options: {} });
    const end = await h.waitFor((m) => m.method === "job.update" && m.params.job.state === "failed");
    expect(end.params.job.error).toBe("domain missing not found");
    expect((await h.call("swarm.joinTokens", {})).error).toMatchObject({ code: -32005, message: "swarm is not available on this host" });
  });

  it("repeats the last progress while a job is silent, so progress arrives at least every heartbeat", async () => {
    const h = harness({ heartbeatMs: 30 });
    await h.call("inventory.snapshot", {});
    await h.call("virt.migrate", { jobId: "op-4", domain: "web1", destination: { host: "kvm2", uri: "u" }, options: {} });
    const updates = () => h.messages.filter((m) => m.method === "job.update" && m.params.job.id === "op-4" && m.params.job.progress?.percent === 50);
    await h.waitFor(() => updates().length >= 3);
    h.finishMigration();
    await h.waitFor((m) => m.method === "job.update" && m.params.job.id === "op-4" && m.params.job.state === "succeeded");
  });

  it("answers virt.preflight with the driver's checks and the host's name", async () => {
    const h = harness();
    const r = await h.call("virt.preflight", { role: "source", domain: "gone", destination: "kvm2" });
    expect(r.result).toEqual({ host: "h1", checks: [{ id: "agent-source", label: "h1", result: "fail", reason: "source gone" }] });
    expect((await h.call("virt.preflight", { role: "sideways", domain: "x" })).error.code).toBe(-32602);
  });

  it("says virt.preflight is unsupported by a driver without it", async () => {
    const h = harness({ withoutPreflight: true });
    expect((await h.call("virt.preflight", { role: "source", domain: "web1", destination: "kvm2" })).error).toMatchObject({ code: -32005, message: "virt.preflight is not available on this host" });
  });

  it("runs a disk move as a storage-move job that ends at 100 % with every byte copied", async () => {
    const h = harness();
    await h.call("inventory.snapshot", {});
    const r = await h.call("virt.moveDisk", { jobId: "op-5", domain: "web1", disk: "vda", destinationPath: "/instance2/web1.qcow2", bandwidthMiBps: 50 });
    expect(r.result).toEqual({ jobId: "op-5" });
    await h.waitFor((m) => m.method === "job.update" && m.params.job.progress?.percent === 40);
    h.finishMove();
    const done = await h.waitFor((m) => m.method === "job.update" && m.params.job.state === "succeeded");
    expect(done.params.job).toMatchObject({ kind: "storage-move", progress: { phase: "done", percent: 100, bytesCopied: 1000 } });
  });

  it("refuses a disk move to a path that climbs out of its directory", async () => {
    const h = harness();
    const r = await h.call("virt.moveDisk", { jobId: "op-6", domain: "web1", disk: "vda", destinationPath: "/instance2/../etc/passwd", bandwidthMiBps: null });
    expect(r.error.code).toBe(-32602);
  });

  it("ends the session when the input closes", async () => {
    const h = harness();
    h.input.end();
    await expect(h.done).resolves.toBeUndefined();
  });

  it("ends the session, and only the session, when its link fails with an error (a push meeting a relay that went away)", async () => {
    const h = harness();
    await h.call("hello", { protocol: 1, server: "t" });
    // As a unix socket does on EPIPE/ECONNRESET: 'error' then 'close'. Thrown, it would end the daemon and its jobs.
    h.input.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await expect(h.done).resolves.toBeUndefined();
  });
});
