import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_LIMITS, type Operation } from "@nimbus/domain";
import { serviceLogStreams } from "../../../packages/api/src/services/service-logs.js";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/**
 * A service's update, rollback and logs through the API against the embedded lab, and the swarm
 * port findings on the swarm and health pages. Who may: the role matrix and tenant isolation
 * tests hold a row each; here the behaviour behind them.
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const as = (v: keyof typeof viewers, signal?: AbortSignal) => backend.as(viewers[v], signal);
const settled = (id: string) =>
  until(() => as("admin").operations.get({ id }), (op) => op.state !== "running" && op.state !== "pending", `operation ${id} to settle`, 60_000) as Promise<Operation>;
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));

describe("service update and rollback", () => {
  it("an update runs to completion and the service runs the new image", { timeout: 90_000 }, async () => {
    const op = await as("admin").swarm.services.update({ service: "queue", image: "rabbitmq:3.13-alpine" });
    expect(op).toMatchObject({ kind: "service-update", target: { type: "service", name: "queue" }, summary: "Update queue from rabbitmq:3.12-alpine to rabbitmq:3.13-alpine" });
    const done = await settled(op.id);
    expect(done.state).toBe("succeeded");
    expect(done.progress).toMatchObject({ kind: "service-update", state: "completed", updated: 1, total: 1 });
    // The manager's section follows within a push.
    const overview = await until(() => as("admin").swarm.overview(), (o) => o.services.some((s) => s.name === "queue" && s.update?.state === "completed"), "the pushed section", 10_000);
    expect(overview.services.find((s) => s.name === "queue")).toMatchObject({ image: "rabbitmq:3.13-alpine", update: { state: "completed" } });
    expect(overview.tasks.filter((t) => t.serviceName === "queue" && t.desiredState === "running").every((t) => t.image === "rabbitmq:3.13-alpine" && !!t.since)).toBe(true);
  });

  it("a failing image pauses the update: the operation fails with docker's message and the task's error; rollback brings the old image back", { timeout: 90_000 }, async () => {
    await as("admin").lab.inject({ name: "fail-service-image", args: ["rabbitmq-broken"] });
    const op = await as("admin").swarm.services.update({ service: "queue", image: "rabbitmq-broken" });
    const failed = await settled(op.id);
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatch(/update of queue to rabbitmq-broken paused: update paused due to failure .*No such image: rabbitmq-broken/);
    const rb = await settled((await as("operator").swarm.services.rollback({ service: "queue" })).id);
    expect(rb).toMatchObject({ kind: "service-rollback", state: "succeeded" });
    await until(() => as("admin").swarm.overview(), (o) => o.services.find((s) => s.name === "queue")!.image === "rabbitmq:3.13-alpine", "the old image back", 10_000);
  });

  it("a tenant cancels its own update: docker rolls it back, the operation ends cancelled saying so, audited; nobody else may", { timeout: 90_000 }, async () => {
    const op = await as("acme").swarm.services.update({ service: "web", image: "nginx:1.27-alpine" });
    await until(() => as("acme").operations.get({ id: op.id }), (o) => o.progress?.kind === "service-update" && o.progress.updated >= 1, "the first task on the new image", 30_000);
    expect(await codeOf(as("globex").operations.cancel({ id: op.id }))).toBe("NOT_FOUND");
    expect(await codeOf(as("oncall").operations.cancel({ id: op.id }))).toBe("FORBIDDEN");
    await as("acme").operations.cancel({ id: op.id });
    const done = await settled(op.id);
    expect(done.state).toBe("cancelled");
    expect(done.error).toMatch(/^update of web to nginx:1\.27-alpine cancelled: docker rolled it back to nginx:1\.25-alpine \(3\/3 tasks on nginx:1\.25-alpine\)/);
    const web = (await as("admin").swarm.overview()).services.find((s) => s.name === "web")!;
    expect(web.image).toBe("nginx:1.25-alpine");
    const { records } = await as("admin").audit.list({ action: "operations.cancel", limit: 20, offset: 0 });
    expect(records.map((r) => [r.userName, r.result])).toContainEqual([viewers.acme.name, "ok"]);
  });

  it("refuses bad input before anything starts", async () => {
    expect(await codeOf(as("admin").swarm.services.update({ service: "queue", image: "--rm" }))).toBe("BAD_REQUEST");
    expect(await codeOf(as("admin").swarm.services.update({ service: "queue", image: "x".repeat(300) }))).toBe("BAD_REQUEST");
    expect(await codeOf(as("admin").swarm.services.update({ service: "no-such-service", image: "a:1" }))).toBe("NOT_FOUND");
  });

  it("a tenant updates its own service only; another tenant's answers like a missing one; oncall may not", async () => {
    expect(await codeOf(as("acme").swarm.services.update({ service: "api", image: "globex/api:9" }))).toBe("NOT_FOUND");
    expect(await codeOf(as("acme").swarm.services.rollback({ service: "api" }))).toBe("NOT_FOUND");
    expect(await codeOf(as("oncall").swarm.services.update({ service: "queue", image: "a:1" }))).toBe("FORBIDDEN");
    expect(await codeOf(as("globex").swarm.services.update({ service: "api", image: "globex/api:2.4.1" }))).toBe("CONFLICT");
  });
});

describe("service logs", () => {
  async function read(viewer: keyof typeof viewers, input: { service: string; tail: number; follow: boolean }, until: (lines: { text: string; node: string | null; task: string | null }[]) => boolean) {
    const abort = new AbortController();
    const stream = (await as(viewer, abort.signal).swarm.services.logs(input)) as AsyncIterable<{ lines: { text: string; node: string | null; task: string | null }[]; end: { error: string | null } | null }>;
    const lines: { text: string; node: string | null; task: string | null }[] = [];
    let end: { error: string | null } | null = null;
    for await (const batch of stream) {
      lines.push(...batch.lines);
      if (batch.end) end = batch.end;
      if (batch.end || until(lines)) break;
    }
    abort.abort();
    return { lines, end };
  }

  it("staff follow a service: the tail, then new lines, with task and node; leaving stops the stream", { timeout: 60_000 }, async () => {
    const { lines } = await read("admin", { service: "web", tail: 3, follow: true }, (l) => l.some((x) => x.text.startsWith("GET /")));
    expect(lines.slice(0, 3).every((l) => /^web\.\d$/.test(l.task!) && !!l.node)).toBe(true);
    await until(async () => serviceLogStreams(backend.app.deps.fleet).openFor(viewers.admin.userId), (n) => n === 0, "the stream closed");
  });

  it("a tail without follow ends; a tenant reads its own service without nodes", { timeout: 60_000 }, async () => {
    const { lines, end } = await read("acme", { service: "web", tail: 4, follow: false }, () => false);
    expect(end).toEqual({ error: null });
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.node === null)).toBe(true);
  });

  it("a tenant cannot read another tenant's logs (answered like a missing service); bad input is refused", async () => {
    const other = await codeOf(as("acme").swarm.services.logs({ service: "api", tail: 10, follow: false }));
    const missing = await codeOf(as("acme").swarm.services.logs({ service: "does-not-exist", tail: 10, follow: false }));
    expect([other, missing]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect(await codeOf(as("admin").swarm.services.logs({ service: "web", tail: LOG_LIMITS.maxTail + 1, follow: false }))).toBe("BAD_REQUEST");
    expect(await codeOf(as("admin").swarm.services.logs({ service: "--all", tail: 10, follow: false }))).toBe("BAD_REQUEST");
  });

  it(`a user holds at most ${LOG_LIMITS.streamsPerUser} streams at once`, { timeout: 60_000 }, async () => {
    const aborts = Array.from({ length: LOG_LIMITS.streamsPerUser }, () => new AbortController());
    const iterators = await Promise.all(
      aborts.map(async (a) => ((await as("operator", a.signal).swarm.services.logs({ service: "web", tail: 1, follow: true })) as AsyncIterable<unknown>)[Symbol.asyncIterator]()),
    );
    await Promise.all(iterators.map((it) => it.next()));
    expect(await codeOf(as("operator").swarm.services.logs({ service: "web", tail: 1, follow: true }))).toBe("TOO_MANY_REQUESTS");
    for (const a of aborts) a.abort();
    await Promise.all(iterators.map((it) => it.return?.()));
    await until(async () => serviceLogStreams(backend.app.deps.fleet).openFor(viewers.operator.userId), (n) => n === 0, "the streams closed");
  });
});

describe("swarm port findings", () => {
  it("a blocked port shows on the swarm page and the health page naming both nodes, and clears", { timeout: 90_000 }, async () => {
    await as("admin").lab.inject({ name: "block-port", args: ["worker2", "7946/tcp"] });
    const id = "swarm:port:worker1>worker2:7946/tcp";
    const swarm = await until(() => as("admin").swarm.overview(), (o) => o.portFindings.some((f) => f.id === id), "the finding on the swarm page", 30_000);
    expect(swarm.portFindings.find((f) => f.id === id)!.message).toMatch(/7946\/tcp \(node gossip\) from worker1 to worker2 is blocked/);
    const check = await until(() => as("admin").health.list(), (c) => c.some((x) => x.id === id && x.state === "crit"), "the finding on the health page", 30_000);
    expect(check.find((x) => x.id === id)).toMatchObject({ category: "swarm", affects: ["worker1", "worker2"] });
    // Tenants see neither nodes nor findings.
    expect((await as("acme").swarm.overview()).portFindings).toEqual([]);
    await as("admin").lab.inject({ name: "unblock-port", args: ["worker2", "7946/tcp"] });
    await until(() => as("admin").swarm.overview(), (o) => o.portFindings.length === 0, "the finding gone", 30_000);
    await until(() => as("admin").health.list(), (c) => !c.some((x) => x.id === id && x.state === "crit"), "the health check cleared", 30_000);
  });

  it("overlay networks are listed for staff, not for tenants", async () => {
    const nets = (await as("admin").swarm.overview()).networks;
    expect(nets.find((n) => n.name === "ingress")).toMatchObject({ subnets: [{ subnet: "10.0.0.0/24", gateway: "10.0.0.1" }], services: ["web"] });
    expect((await as("acme").swarm.overview()).networks).toEqual([]);
  });
});
