import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveEvent, LoadBalancerView, Viewer } from "@nimbus/domain";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/**
 * Load balancers and active checks through the whole server over the embedded lab: lb-apply's
 * steps, the edge host's simulated HAProxy reporting each backend, a backend taken down by a
 * fault and brought back, a drained node leaving the rotation by itself, a refused configuration.
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? `${e.code}: ${e.message}` : String(e)));
const shop = (over: Record<string, unknown> = {}) => ({
  name: "shop",
  edgeHost: "manager",
  bind: { address: "0.0.0.0", port: 80 },
  mode: "http" as const,
  target: { kind: "service" as const, service: "web", port: null },
  check: { interMs: 1000, timeoutMs: 500, rise: 2, fall: 2, httpPath: "/", expectStatus: 200 },
  ...over,
});
const operation = (id: string) => until(() => admin().operations.get({ id }), (op) => op.state !== "running" && op.state !== "pending", `operation ${id} to end`, 20_000);
const backendOf = (lb: LoadBalancerView, name: string) => lb.backends.find((b) => b.name === name);
/** A viewer's live stream, read into `events` in the background until aborted. */
async function liveEvents(viewer: Viewer) {
  const abort = new AbortController();
  const events: LiveEvent[] = [];
  const stream = (await backend.as(viewer, abort.signal).live.events({})) as AsyncIterable<unknown>;
  void (async () => {
    for await (const e of stream) events.push((Array.isArray(e) ? e[1] : (e as { data: unknown }).data) as LiveEvent);
  })().catch(() => undefined);
  return { events, abort };
}
const lbUntil = (ok: (lb: LoadBalancerView) => boolean, what: string) => until(() => admin().loadBalancers.get({ name: "shop" }), ok, what, 20_000);

describe("load balancers", () => {
  it("an admin creates one in front of a service: lb-apply writes, validates, reloads and verifies; every node is a backend, UP, sharing requests", async () => {
    expect(await admin().loadBalancers.options()).toMatchObject({ edgeHosts: ["manager", "worker1", "worker2"], services: [{ name: "web", ports: [8080] }] });
    const started = await admin().loadBalancers.create(shop());
    expect(started).toMatchObject({ kind: "lb-apply", target: { type: "load-balancer", name: "shop" }, host: "manager", requestedBy: "Ada Admin" });
    const done = await operation(started.id);
    expect(done.state).toBe("succeeded");
    expect(done.steps.map((s) => [s.id, s.state])).toEqual([["write", "succeeded"], ["validate", "succeeded"], ["reload", "succeeded"], ["verify", "succeeded"]]);
    expect(done.steps[2]!.log[0]).toMatch(/started HAProxy/);
    const lb = await lbUntil((l) => l.up === 3 && l.backends.every((b) => b.checkStatus === "L7OK" && b.share > 0), "three backends checked and sharing");
    expect(lb).toMatchObject({ status: "applied", total: 3 });
    expect(lb.backends.map((b) => b.name)).toEqual(["manager", "worker1", "worker2"]);
    expect(lb.backends.reduce((s, b) => s + b.share, 0)).toBeCloseTo(1, 5);
    expect(await codeOf(admin().loadBalancers.create(shop()))).toMatch(/^CONFLICT: load balancer shop already exists/);
    expect(await codeOf(admin().loadBalancers.create(shop({ name: "shop2" })))).toMatch(/^CONFLICT: port 80 on manager is taken by load balancer shop/);
  });

  it("the page is live: requests through the balancer move its shares and sessions on the staff live channel, and no tenant hears of it", async () => {
    const admins = await liveEvents(viewers.admin);
    const tenant = await liveEvents(viewers.acme);
    try {
      const before = await admin().loadBalancers.get({ name: "shop" });
      const selected = (lb: LoadBalancerView) => lb.backends.reduce((n, b) => n + b.selected, 0);
      // Everything up to now has been read; what follows must come pushed, not asked.
      admins.events.length = 0;
      await admin().lab.inject({ name: "lb-requests", args: ["manager", "shop", "300"] });
      const pushed = await backend.waitFor(
        () => admins.events.find((e): e is Extract<LiveEvent, { type: "load-balancer" }> => e.type === "load-balancer" && e.name === "shop" && e.lb !== null && selected(e.lb) >= selected(before) + 300),
        "a load-balancer event with the 300 requests",
      );
      const lb = pushed.lb!;
      expect(lb.backends.map((b) => b.name)).toEqual(["manager", "worker1", "worker2"]);
      expect(lb.backends.reduce((s, b) => s + b.share, 0)).toBeCloseTo(1, 5);
      expect(lb.frontend!.sessionsTotal).toBeGreaterThanOrEqual(selected(before) + 300);
      // Round robin over three UP servers: each got a third of the 300.
      for (const b of lb.backends) expect(b.selected - backendOf(before, b.name)!.selected).toBeGreaterThanOrEqual(100);
      // A request count of nothing, an unknown balancer: refused with the reason, nothing moves.
      expect(await codeOf(admin().lab.inject({ name: "lb-requests", args: ["manager", "nope", "5"] }))).toMatch(/no load balancer nope runs on manager/);
      expect(await codeOf(admin().lab.inject({ name: "lb-requests", args: ["manager", "shop", "0"] }))).toMatch(/request count/);
      expect(tenant.events.filter((e) => e.type === "load-balancer")).toEqual([]);
      expect(JSON.stringify(tenant.events)).not.toContain("shop");
    } finally {
      admins.abort.abort();
      tenant.abort.abort();
    }
  });

  it("a backend whose node refuses (lab fault) goes DOWN, in the view and in health, and comes back UP", async () => {
    await admin().lab.inject({ name: "lb-backend-down", args: ["worker1"] });
    try {
      const down = await lbUntil((l) => backendOf(l, "worker1")?.state === "down", "worker1 DOWN");
      expect(backendOf(down, "worker1")).toMatchObject({ status: "DOWN", checkStatus: "L4CON" });
      expect(down.up).toBe(2);
      await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === "lb:shop:worker1" && c.state === "crit"), "lb:shop:worker1 critical");
    } finally {
      await admin().lab.inject({ name: "lb-backend-up", args: ["worker1"] });
    }
    await lbUntil((l) => backendOf(l, "worker1")?.state === "up", "worker1 UP again");
  });

  it("a drained node leaves the rotation by itself (re-applied, MAINT) and comes back when active", async () => {
    await admin().swarm.setAvailability({ node: "worker2", availability: "drain" });
    try {
      const drained = await lbUntil((l) => backendOf(l, "worker2")?.state === "maint" && l.status === "applied", "worker2 in maintenance");
      expect(backendOf(drained, "worker2")!.status).toBe("MAINT");
      const ops = await admin().operations.list({ limit: 20, target: { type: "load-balancer", name: "shop" } });
      expect(ops.some((o) => o.requestedBy === "nimbus (the swarm changed)" && o.state === "succeeded")).toBe(true);
    } finally {
      await admin().swarm.setAvailability({ node: "worker2", availability: "active" });
    }
    await lbUntil((l) => backendOf(l, "worker2")?.state === "up" && l.status === "applied", "worker2 back in rotation");
  });

  it("a configuration HAProxy refuses fails at validate, names the address, and the running one stays", async () => {
    const before = await admin().loadBalancers.get({ name: "shop" });
    const op = await admin().loadBalancers.update(shop({ target: { kind: "addresses", servers: [{ name: "ghost", address: "ghost.example", port: 80 }] } }));
    const failed = await operation(op.id);
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatch(/^Validate failed: .*could not resolve address 'ghost.example'.*\(the running configuration was not touched\)/);
    expect(failed.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "skipped", "skipped"]);
    const after = await admin().loadBalancers.get({ name: "shop" });
    expect(after.backends.map((b) => b.name)).toEqual(before.backends.map((b) => b.name));
    // Put the service target back, so the load balancer is whole again.
    expect((await operation((await admin().loadBalancers.update(shop())).id)).state).toBe("succeeded");
  });

  it("refuses what cannot work before saving anything: a host without HAProxy, a missing service, a hostile name", async () => {
    expect(await codeOf(admin().loadBalancers.create(shop({ name: "x1", edgeHost: "kvm1" })))).toMatch(/^PRECONDITION_FAILED: edge host kvm1 has no HAProxy/);
    expect(await codeOf(admin().loadBalancers.create(shop({ name: "x2", bind: { address: "0.0.0.0", port: 81 }, target: { kind: "service", service: "nope", port: null } })))).toMatch(/^NOT_FOUND: service nope not found/);
    expect(await codeOf(admin().loadBalancers.create(shop({ name: "x3\n  server evil 1.2.3.4:22" })))).toMatch(/^BAD_REQUEST/);
    expect(await codeOf(admin().loadBalancers.get({ name: "x2" }))).toMatch(/^NOT_FOUND/);
    expect(await codeOf(backend.as(viewers.oncall).loadBalancers.create(shop({ name: "x4" })))).toMatch(/^FORBIDDEN/);
    expect((await backend.as(viewers.oncall).loadBalancers.list()).map((l) => l.spec.name)).toEqual(["shop"]);
  });

  it("active checks: every swarm node probes the service's published port; a node refusing turns its check critical", async () => {
    const id = "active:svc:web:8080:worker2";
    await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === id && c.state === "ok"), `${id} ok`, 20_000);
    // The NFS VIP and the console's own dependency (probed by the server) rise on their own schedule:
    // under load the second probe of the database may not have come yet.
    await until(() => admin().health.list(), (checks) => checks.some((c) => c.id.startsWith("active:nfs-vip:") && c.state === "ok"), "nfs vip ok", 20_000);
    const storage = await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === "console:database" && c.state === "ok"), "console:database ok", 20_000);
    expect(storage.find((c) => c.id === "console:database")).toMatchObject({ state: "ok", message: "UP: answers" });
    await admin().lab.inject({ name: "lb-backend-down", args: ["worker2"] });
    try {
      const checks = await until(() => admin().health.list(), (list) => list.some((c) => c.id === id && c.state === "crit"), `${id} critical`, 20_000);
      expect(checks.find((c) => c.id === id)!.message).toMatch(/DOWN: connection refused/);
    } finally {
      await admin().lab.inject({ name: "lb-backend-up", args: ["worker2"] });
    }
  });

  it("active checks speak HTTP where the load balancer does: a port that accepts connections but answers another status is DOWN", async () => {
    const id = "active:svc:web:8080:worker1";
    // shop is in http mode with GET /: the nodes' checks of web :8080 are HTTP checks too.
    const up = await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === id && c.state === "ok" && c.message === "UP: HTTP 200"), `${id} up by HTTP`, 20_000);
    expect(up.find((c) => c.id === id)!.target).toBe("web :8080 on worker1 (HTTP GET /)");
    // The load balancer now expects 204 (the lab's web answers 200): the plan follows the spec, HAProxy and the agents agree.
    expect((await operation((await admin().loadBalancers.update(shop({ check: { ...shop().check, expectStatus: 204 } }))).id)).state).toBe("succeeded");
    try {
      const down = await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === id && c.state === "crit"), `${id} critical`, 20_000);
      expect(down.find((c) => c.id === id)!.message).toBe("DOWN: HTTP 200, expected 204");
      const lb = await lbUntil((l) => l.up === 0, "every backend DOWN on the status");
      expect(backendOf(lb, "worker1")).toMatchObject({ state: "down", checkStatus: "L7STS", checkCode: "200" });
    } finally {
      await operation((await admin().loadBalancers.update(shop())).id);
    }
    await until(() => admin().health.list(), (checks) => checks.some((c) => c.id === id && c.state === "ok" && c.message === "UP: HTTP 200"), `${id} ok again`, 20_000);
    await lbUntil((l) => l.up === 3, "every backend UP again");
  });

  it("delete stops the HAProxy on the edge host and forgets the load balancer", async () => {
    await admin().loadBalancers.delete({ name: "shop" });
    expect(await admin().loadBalancers.list()).toEqual([]);
    await until(async () => backend.app.fleet.host("manager")!.inventory.lb?.balancers ?? [], (b) => b.length === 0, "the lb section empty");
  });
});
