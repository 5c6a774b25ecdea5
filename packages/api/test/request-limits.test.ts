import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Viewer } from "@nimbus/domain";
import { appRouter } from "../src/root.js";
import { createCallerFactory, type Context } from "../src/trpc.js";
import { INPUT_LIMITS, inputProblem } from "../src/input-limits.js";
import { RateWindow } from "../src/services/rate-window.js";
import type { ApiDeps, AuditEntry } from "../src/deps.js";

/** The router over stub services: what the middleware stacks do before any handler runs. */
function setup(viewer: Viewer | null, opts: { anonymousPerMinute?: number } = {}) {
  let now = 0;
  const appended: AuditEntry[] = [];
  const deps = {
    audit: { append: async (e: AuditEntry) => void appended.push(e) },
    tenants: { get: async () => null, create: async () => ({}) },
    limits: { anonymousAudit: new RateWindow(opts.anonymousPerMinute ?? 5, 60_000, () => now) },
  } as unknown as ApiDeps;
  const ctx = (ip: string) => ({ deps, viewer, requestId: "req", ip }) as unknown as Context;
  const caller = (ip = "203.0.113.9") => createCallerFactory(appRouter)(ctx(ip));
  return { appended, caller, advance: (ms: number) => (now += ms) };
}

const admin: Viewer = { userId: "u-admin", name: "Ada", role: "admin", tenant: null };
const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));

describe("audit of signed-out calls", () => {
  it("records a refused call without its target or input: a 1,000,000-character name is not read, let alone stored", async () => {
    const { appended, caller } = setup(null);
    expect(await codeOf(caller().admin.tenants.create({ slug: "x", name: "n".repeat(1_000_000) }))).toBe("UNAUTHORIZED");
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({ action: "admin.tenants.create", userId: null, target: null, result: "error", errorCode: "UNAUTHORIZED", ip: "203.0.113.9" });
    expect(appended[0]!.input).toBeUndefined();
    expect(JSON.stringify(appended[0]).length).toBeLessThan(400);
  });

  it("leaves at most the allowed records per address and minute, and refuses every call all the same", async () => {
    const { appended, caller, advance } = setup(null, { anonymousPerMinute: 5 });
    const codes = await Promise.all(Array.from({ length: 500 }, () => codeOf(caller().hosts.setMaintenance({ name: "kvm1", on: true }))));
    expect(new Set(codes)).toEqual(new Set(["UNAUTHORIZED"]));
    expect(appended).toHaveLength(5);
    // Another address has its own allowance; a new minute brings a new one.
    await codeOf(caller("198.51.100.1").hosts.setMaintenance({ name: "kvm1", on: true }));
    expect(appended).toHaveLength(6);
    advance(60_000);
    await codeOf(caller().hosts.setMaintenance({ name: "kvm1", on: true }));
    expect(appended).toHaveLength(7);
  });
});

describe("input bounds", () => {
  it("refuses a signed-in caller's input with 100,000 keys before its schema, and audits the refusal", async () => {
    const { appended, caller } = setup(admin);
    const wide: Record<string, unknown> = { slug: "x", name: "y" };
    for (let i = 0; i < 100_000; i++) wide[`k${i}`] = 1;
    const err = await caller().admin.tenants.create(wide as never).then(() => null, (e: unknown) => e as TRPCError);
    expect(err?.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err?.message).toBe(`the request holds more than ${INPUT_LIMITS.maxValues} values`);
    expect(appended).toMatchObject([{ action: "admin.tenants.create", userName: "Ada", result: "error", errorCode: "PAYLOAD_TOO_LARGE" }]);
  });

  it("says what is wrong with a deep, long or wide input, and passes ordinary ones", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(inputProblem(deep)).toBe(`the request nests deeper than ${INPUT_LIMITS.maxDepth} levels`);
    expect(inputProblem({ name: "n".repeat(INPUT_LIMITS.maxString + 1) })).toMatch(/longer than/);
    expect(inputProblem({ ["k".repeat(INPUT_LIMITS.maxString + 1)]: 1 })).toMatch(/key .* longer than/);
    expect(inputProblem(new Array(1_000_000).fill(0))).toMatch(/more than/);
    expect(inputProblem({ instance: "web-1", destination: "kvm2", options: { bandwidthMiBps: 100, tags: ["a", "b"] } })).toBeNull();
    expect(inputProblem(undefined)).toBeNull();
  });
});

describe("RateWindow", () => {
  it("counts per key within a window and forgets every key when it ends", () => {
    let now = 1_000;
    const w = new RateWindow(3, 60_000, () => now);
    expect([w.take("a"), w.take("a"), w.take("a"), w.take("a")]).toEqual([true, true, true, false]);
    expect(w.take("b", 3)).toBe(true);
    expect(w.take("b")).toBe(false);
    now += 30_000;
    expect(w.retryAfterSeconds()).toBe(30);
    now += 30_000;
    expect(w.take("a")).toBe(true);
  });
});
