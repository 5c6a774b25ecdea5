import { describe, expect, it } from "vitest";
import { FleetConfig, Job, LIMITS, MigrateParams, RpcResponse, StorageSection, methods, notifications, HostName, DomainName } from "../src/index.js";

describe("agent protocol schemas", () => {
  it("rejects host names that could smuggle arguments or shell syntax", () => {
    for (const bad of ["-rf", "a b", "x;rm", "$(id)", "", "a".repeat(64), "../etc"]) expect(HostName.safeParse(bad).success, bad).toBe(false);
  });

  it("accepts any VM name libvirt accepts (acted on by UUID), bounded, without '/' or control characters", () => {
    for (const ok of ["worker-1.acme_2", "café-db", "web 2", "-rf", "5", "数据库", "x;rm $(id)"]) expect(DomainName.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["", "   ", "a/b", "../etc", "line\nbreak", "tab\there", "nul\u0000", "esc\u001b[2J", "bidi\u2028", "a".repeat(201)])
      expect(DomainName.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it("fills migrate option defaults and bounds bandwidth", () => {
    const p = MigrateParams.parse({ jobId: "op1", domain: "web1", destination: { host: "kvm2", uri: "qemu+ssh://kvm2/system" }, options: {} });
    expect(p.options).toEqual({ bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false });
    expect(MigrateParams.safeParse({ ...p, options: { bandwidthMiBps: -1 } }).success).toBe(false);
  });

  it("every method has params and result schemas; hello's result is strict about types", () => {
    for (const [name, spec] of Object.entries(methods)) {
      expect(spec.params, name).toBeDefined();
      expect(spec.result, name).toBeDefined();
    }
    expect(methods.hello.result.safeParse({ protocol: "1", agentVersion: "x", hostname: "h", capabilities: [], bootId: "b" }).success).toBe(false);
    expect(methods.hello.result.safeParse({ protocol: 1, agentVersion: "x", hostname: "h", capabilities: ["virt"], bootId: "b" }).success).toBe(true);
  });

  it("parses responses and errors", () => {
    expect(RpcResponse.safeParse({ jsonrpc: "2.0", id: 1, result: { ok: true } }).success).toBe(true);
    expect(RpcResponse.safeParse({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "not JSON" } }).success).toBe(true);
    expect(RpcResponse.safeParse({ jsonrpc: "1.0", id: 1, result: 1 }).success).toBe(false);
    expect(notifications["job.update"].safeParse({ job: { id: "j" } }).success).toBe(false);
  });

  it("bounds what a host sends: names, lists and free text", () => {
    const job = { id: "op-1", kind: "migrate", state: "failed", progress: null, error: "e".repeat(1_000_000), startedAt: "t", finishedAt: "t" };
    const parsed = Job.parse(job);
    expect(parsed.error).toHaveLength(LIMITS.text);
    expect(parsed.error!.endsWith("…")).toBe(true);
    expect(Job.safeParse({ ...job, id: "j".repeat(LIMITS.name + 1) }).success).toBe(false);
    const scale = { kind: "scale", service: "web", desired: 2, running: 1 };
    expect(Job.safeParse({ ...job, progress: scale }).success).toBe(false);
    expect(Job.safeParse({ ...job, kind: "scale", progress: scale }).success).toBe(true);
    expect(notifications["host.event"].parse({ at: "t", level: "info", message: "m".repeat(10_000) }).message).toHaveLength(LIMITS.text);
    expect(methods.hello.result.safeParse({ protocol: 1, agentVersion: "x", hostname: "h".repeat(LIMITS.name + 1), capabilities: [], bootId: "b" }).success).toBe(false);
    const mount = { source: "nfs:/instance", target: "/instance", fstype: "nfs4" };
    expect(StorageSection.safeParse({ nfs: null, mounts: Array(LIMITS.mounts).fill(mount) }).success).toBe(true);
    expect(StorageSection.safeParse({ nfs: null, mounts: Array(LIMITS.mounts + 1).fill(mount) }).success).toBe(false);
    expect(StorageSection.safeParse({ nfs: null, mounts: [{ ...mount, target: `/${"d".repeat(LIMITS.path)}` }] }).success).toBe(false);
  });

  it("validates fleet config files with defaults", () => {
    const cfg = FleetConfig.parse({ ssh: { user: "nimbus", privateKeyPath: "/k" }, hosts: [{ name: "kvm1", address: "10.0.0.1" }] });
    expect(cfg.hosts[0]!.port).toBe(22);
    expect(cfg.tenants).toEqual([]);
    expect(FleetConfig.safeParse({ ssh: { user: "n", privateKeyPath: "/k" }, hosts: [] }).success).toBe(false);
  });
});
