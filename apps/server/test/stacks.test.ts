import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operation } from "@nimbus/domain";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/**
 * Stacks through the API against the embedded lab: validate (errors with their paths, the diff),
 * deploy as an operation that follows the services to convergence or to their task errors, remove,
 * and tenants kept to their own namespace.
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const acme = () => backend.as(viewers.acme);
const globex = () => backend.as(viewers.globex);

const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
const settled = (as: () => ReturnType<Backend["as"]>, id: string) =>
  until(() => as().operations.get({ id }), (op: Operation) => op.state !== "running" && op.state !== "pending", `operation ${id} to settle`, 60_000);

const SHOP = `services:
  web:
    image: nginx:1.25
    ports: ["8090:80"]
    deploy:
      replicas: 2
  cache:
    image: redis:7
`;

describe("stacks through the API", () => {
  it("validate names each error with its path and sends nothing", async () => {
    const before = JSON.stringify(await admin().stacks.list());
    const v = await acme().stacks.validate({ name: "bad", compose: [`services:\n  web:\n    image: shop:9\n    replicaz: 2\n    ports: ["8080:80"]\n`] });
    expect(v.valid).toBe(false);
    expect(v.stack).toBe("acme-bad");
    expect(v.errors).toEqual(
      expect.arrayContaining([
        { path: "services.web.replicaz", message: 'unknown key "replicaz"' },
        // The scenario's web (acme's acme-shop) publishes 8080: acme's own service, so it is named.
        { path: "services.web.ports[0]", message: "port 8080/tcp is already published by web" },
        { path: "services.web.image", message: "no node has the image shop:9" },
      ]),
    );
    expect(JSON.stringify(await admin().stacks.list())).toBe(before);
  });

  it("a tenant deploys a stack: validated with its diff, then the operation follows the services until they converge", { timeout: 90_000 }, async () => {
    const v = await acme().stacks.validate({ name: "shop2", compose: [SHOP] });
    expect(v).toMatchObject({ stack: "acme-shop2", valid: true, errors: [] });
    expect(v.diff!.exists).toBe(false);
    expect(v.diff!.added.map((a) => a.name)).toEqual(["acme-shop2_web", "acme-shop2_cache"]);

    const op = await acme().stacks.deploy({ name: "shop2", compose: [SHOP] });
    expect(op).toMatchObject({ kind: "stack-deploy", target: { type: "stack", name: "acme-shop2" }, tenant: "acme" });
    const done = await settled(acme, op.id);
    expect(done.state, done.error ?? "").toBe("succeeded");
    expect(done.steps.map((s) => [s.id, s.state])).toEqual([
      ["validate", "succeeded"],
      ["deploy", "succeeded"],
      ["converge", "succeeded"],
    ]);
    // The manager's next push carries what the job saw.
    const list = await until(() => acme().stacks.list(), (l) => l.some((s) => s.name === "acme-shop2" && s.replicasRunning === 3), "acme-shop2 listed with 3 running");
    const mine = list.find((s) => s.name === "acme-shop2")!;
    expect(mine).toMatchObject({ tenant: "acme", replicasDesired: 3, replicasRunning: 3 });
    expect(mine.ports).toEqual([{ published: 8090, target: 80, protocol: "tcp", mode: "ingress", nodes: null, nodeCount: null }]);

    // The same file again changes nothing; a new replica count is a change.
    const again = await acme().stacks.validate({ name: "shop2", compose: [SHOP.replace("replicas: 2", "replicas: 3")] });
    expect(again.diff).toMatchObject({ exists: true, added: [], removed: [], unchanged: ["acme-shop2_cache"], changed: [{ name: "acme-shop2_web", changes: [{ field: "replicas", from: "2", to: "3" }] }] });
  });

  it("another tenant neither sees nor removes it, and cannot take its name", async () => {
    expect((await globex().stacks.list()).map((s) => s.name)).not.toContain("acme-shop2");
    await expect(globex().stacks.remove({ name: "acme-shop2" })).rejects.toMatchObject({ code: "NOT_FOUND", message: "stack acme-shop2 not found" });
    await expect(globex().stacks.remove({ name: "no-such-stack" })).rejects.toMatchObject({ code: "NOT_FOUND", message: "stack no-such-stack not found" });
    // Its own "acme-shop2" is globex-acme-shop2: a name in its own namespace.
    expect((await globex().stacks.validate({ name: "acme-shop2", compose: [SHOP.replace("8090", "8091")] })).stack).toBe("globex-acme-shop2");
    // The operation is not its to read either.
    const ops = await globex().operations.list({ target: { type: "stack", name: "acme-shop2" } });
    expect(ops).toEqual([]);
  });

  it("a deploy fails with the task error when the image is only on some nodes (swarm retries; three rejections are the verdict)", { timeout: 90_000 }, async () => {
    // redis:7 stays on the manager only: the check passes (a node has it), the tasks placed on the workers are rejected.
    for (const node of ["worker1", "worker2"]) await admin().lab.inject({ name: "remove-node-image", args: [node, "redis:7"] });
    const v = await admin().stacks.validate({ name: "broken", compose: [`services:\n  api:\n    image: redis:7\n    deploy:\n      replicas: 3\n`] });
    expect(v.errors).toEqual([]);
    await until(async () => backend.app.fleet.hosts().filter((h) => h.name.startsWith("worker") && h.inventory.swarm?.images?.includes("redis:7")).length, (n) => n === 0, "workers to report redis:7 gone");
    const op = await admin().stacks.deploy({ name: "broken", compose: [`services:\n  api:\n    image: redis:7\n    deploy:\n      replicas: 3\n`] });
    const done = await settled(admin, op.id);
    expect(done.state).toBe("failed");
    expect(done.error).toBe("broken_api: No such image: redis:7 (3 tasks failed)");
    expect(done.steps.find((s) => s.id === "converge")!.state).toBe("failed");
    // The stack list shows why the service is short.
    const listed = await until(() => admin().stacks.list(), (l) => !!l.find((s) => s.name === "broken")?.services[0]?.error, "broken listed with its error");
    expect(listed.find((s) => s.name === "broken")!.services[0]!.error).toBe("No such image: redis:7");
    // An image no node has at all is refused before anything is sent.
    await admin().lab.inject({ name: "remove-node-image", args: ["manager", "redis:7"] });
    // Once the nodes' next pushes carry their image lists.
    const refused = await until(() => admin().stacks.validate({ name: "broken2", compose: [`services:\n  api:\n    image: redis:7\n`] }), (v) => !v.valid, "the check to see redis:7 gone");
    expect(refused.errors).toEqual([{ path: "services.api.image", message: "no node has the image redis:7" }]);
    for (const node of ["manager", "worker1", "worker2"]) await admin().lab.inject({ name: "restore-node-image", args: [node, "redis:7"] });
    await until(async () => backend.app.fleet.hosts().filter((h) => h.inventory.swarm?.images?.includes("redis:7")).length, (n) => n === 3, "every node to report redis:7 again");
  });

  it("fault fail-stack-deploy: the deploy step fails with docker's words", { timeout: 60_000 }, async () => {
    await admin().lab.inject({ name: "fail-stack-deploy", args: ["doomed"] });
    const op = await admin().stacks.deploy({ name: "doomed", compose: [SHOP.replace("8090", "8092")] });
    const done = await settled(admin, op.id);
    expect(done.state).toBe("failed");
    expect(done.error).toMatch(/update out of sequence/);
    expect(done.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "skipped"]);
    await admin().lab.inject({ name: "restore-stack-deploy", args: ["doomed"] });
  });

  it("a tenant cancels its own deploy mid-way: the operation ends cancelled naming what converged; the stack stays; another tenant cannot cancel it", { timeout: 90_000 }, async () => {
    const file = `services:\n  big:\n    image: nginx:1.25\n    deploy:\n      replicas: 6\n  one:\n    image: redis:7\n`;
    const op = await acme().stacks.deploy({ name: "half", compose: [file] });
    await until(
      () => acme().operations.get({ id: op.id }),
      (o) => o.progress?.kind === "stack-deploy" && o.progress.services.some((s) => s.name === "acme-half_one" && s.running === 1),
      "acme-half_one converged",
      30_000,
    );
    expect(await codeOf(globex().operations.cancel({ id: op.id }))).toBe("NOT_FOUND");
    await acme().operations.cancel({ id: op.id });
    const done = await settled(acme, op.id);
    expect(done.state).toBe("cancelled");
    expect(done.error).toMatch(/^deploy of acme-half cancelled; converged: acme-half_one; not converged: acme-half_big [0-5]\/6\. The stack stays deployed as far as it got/);
    const half = await until(() => acme().stacks.list(), (l) => l.some((x) => x.name === "acme-half"), "the stack listed");
    expect(half.find((x) => x.name === "acme-half")!.services.map((x) => x.name)).toEqual(["acme-half_big", "acme-half_one"]);
    await settled(acme, (await acme().stacks.remove({ name: "acme-half" })).id);
  });

  it("each published port says its mode; host mode names the nodes that answer to staff, and only their count to the tenant", { timeout: 90_000 }, async () => {
    const file = `services:\n  edge:\n    image: nginx:1.25\n    ports: [{ target: 80, published: 8097, mode: host }]\n    deploy:\n      replicas: 2\n  mesh:\n    image: nginx:1.25\n    ports: ["8098:80"]\n`;
    const op = await acme().stacks.deploy({ name: "ports", compose: [file] });
    expect((await settled(acme, op.id)).state).toBe("succeeded");
    const edgeOf = (l: Awaited<ReturnType<ReturnType<typeof admin>["stacks"]["list"]>>) => l.find((x) => x.name === "acme-ports")?.services.find((x) => x.short === "edge")?.ports[0];
    // The operation ends when the manager's agent saw both tasks run; the pushed section follows.
    const staffView = (await until(() => admin().stacks.list(), (l) => edgeOf(l)?.nodeCount === 2, "both host-mode tasks in the inventory")).find((x) => x.name === "acme-ports")!;
    const edge = staffView.services.find((x) => x.short === "edge")!.ports[0]!;
    expect(edge).toMatchObject({ published: 8097, mode: "host", nodeCount: 2 });
    const nodeNames = (await admin().swarm.overview()).nodes.map((n) => n.hostname);
    expect(edge.nodes).toHaveLength(2);
    expect(edge.nodes!.every((n) => nodeNames.includes(n))).toBe(true);
    expect(staffView.services.find((x) => x.short === "mesh")!.ports[0]).toMatchObject({ published: 8098, mode: "ingress", nodes: null });
    const tenantView = (await acme().stacks.list()).find((x) => x.name === "acme-ports")!;
    expect(tenantView.services.find((x) => x.short === "edge")!.ports[0]).toMatchObject({ mode: "host", nodes: [], nodeCount: 2 });
    expect(tenantView.ports.find((p) => p.published === 8097)).toMatchObject({ nodes: [], nodeCount: 2 });
    const text = JSON.stringify(tenantView);
    for (const n of nodeNames) expect(text).not.toContain(n);
    await settled(acme, (await acme().stacks.remove({ name: "acme-ports" })).id);
  });

  it("a tenant removes its own stack: the services go", { timeout: 60_000 }, async () => {
    const op = await acme().stacks.remove({ name: "acme-shop2" });
    expect(op.kind).toBe("stack-remove");
    const done = await settled(acme, op.id);
    expect(done.state, done.error ?? "").toBe("succeeded");
    await until(() => acme().stacks.list(), (l) => !l.some((s) => s.name === "acme-shop2"), "acme-shop2 gone from the list");
  });

  it("the audit trail names the deploy, never the file's values; a check leaves no row", { timeout: 60_000 }, async () => {
    const compose = `services:\n  app:\n    image: busybox:latest\n    environment:\n      DB_URL: postgres://app:hunter2-secret@db/app\n`;
    await admin().stacks.validate({ name: "audited", compose: [compose] });
    const op = await admin().stacks.deploy({ name: "audited", compose: [compose] });
    await settled(admin, op.id);
    const deploys = await admin().audit.list({ action: "stacks.deploy", limit: 50, offset: 0 });
    const row = deploys.records.find((r) => JSON.stringify(r.inputSummary).includes("audited"))!;
    expect(row.inputSummary).toMatchObject({ name: "audited", stack: "audited", services: ["audited_app"] });
    expect(JSON.stringify(deploys.records)).not.toContain("hunter2");
    expect((await admin().audit.list({ action: "stacks.validate", limit: 5, offset: 0 })).records).toEqual([]);
  });

  it("an invalid file is refused at deploy with its first error, and oncall may not deploy", async () => {
    await expect(admin().stacks.deploy({ name: "x", compose: ["services:\n  web:\n    image: nginx:1.25\n    env_file: .env\n"] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("services.web.env_file"),
    });
    const err = await backend.as(viewers.oncall).stacks.deploy({ name: "x", compose: [SHOP] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("FORBIDDEN");
  });
});
