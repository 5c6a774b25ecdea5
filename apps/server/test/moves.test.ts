import { rmSync } from "node:fs";
import { appRouter, createCallerFactory } from "@nimbus/api";
import type { MaintenanceProgress, Operation } from "@nimbus/domain";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { loadEnv } from "../src/env.js";
import { freshDataDir, startBackend, until, viewers, type Backend } from "./backend.js";

/** The migrate dialog's preflight, the moves history, host maintenance and storage moves through the API. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const settled = (id: string, timeoutMs = 30_000) =>
  backend.waitFor(() => {
    const op = backend.app.deps.operations.running().find((o) => o.id === id);
    return op ? null : true;
  }, `operation ${id} to end`, timeoutMs).then(() => admin().operations.get({ id }));
const hostOf = async (vm: string) => (await admin().instances.get({ name: vm })).instance.host;
const other = (h: string) => (h === "kvm1" ? "kvm2" : "kvm1");

describe("migration preflight and history", () => {
  it("shows what a swarm node VM runs, offers to drain it, and states the headroom policy", async () => {
    const answer = await admin().instances.preflight({ name: "worker1" });
    expect(answer).toMatchObject({
      instance: "worker1",
      state: "running",
      policy: { memoryHeadroomMiB: 512, cpuOvercommit: 4, description: expect.stringContaining("512 MiB of RAM stay free") },
      swarm: { node: "worker1", role: "worker", availability: "active", drain: { procedure: "swarm.setAvailability", input: { node: "worker1", availability: "drain" } } },
      recheckedOnAgents: true,
    });
    expect(answer.swarm!.tasks.length).toBeGreaterThan(0);
    expect(answer.destinations[0]).toMatchObject({ host: other(answer.source), verdict: "pass" });
    expect((await admin().instances.preflight({ name: "acme-web1" })).swarm).toBeNull();
  });

  it("records who moved a VM from where to where, with options, duration and measured downtime", async () => {
    const from = await hostOf("acme-web2");
    const op = await admin().instances.migrate({ instance: "acme-web2", destination: other(from), options: { autoConverge: true } });
    expect((await settled(op.id)).state).toBe("succeeded");
    const [last] = await admin().instances.history({ name: "acme-web2" });
    expect(last).toMatchObject({
      id: op.id, kind: "migrate", instance: "acme-web2", requestedBy: "Ada Admin", from, to: other(from),
      options: { autoConverge: true, bandwidthMiBps: null }, state: "succeeded", maintenanceId: null,
    });
    expect(last!.durationMs).toBeGreaterThan(0);
    expect(last!.downtimeMs).toBeGreaterThan(0);
    expect((await admin().history.moves({ host: other(from), limit: 10 })).map((r) => r.id)).toContain(op.id);
    expect(await admin().history.moves({ result: "failed", instance: "acme-web2", limit: 10 })).toEqual([]);
  });
});

describe("host maintenance through the API", () => {
  it("dry run, execute, per-VM status, in maintenance when empty, exit; tenants see only their VMs' moves", async () => {
    const target = await hostOf("globex-app1");
    const plan = await admin().maintenance.plan({ host: target });
    expect(plan.complete).toBe(true);
    expect(plan.view).toMatchObject({ host: target, state: "active" });
    const moving = plan.moves.map((m) => m.instance);

    const op = await backend.as(viewers.operator).maintenance.start({ host: target, parallelism: 2 });
    expect(op).toMatchObject({ kind: "maintenance", state: "running", requestedBy: "Otto Operator" });
    const final = (await settled(op.id, 60_000)) as Operation;
    expect(final.state).toBe("succeeded");
    expect((final.progress as MaintenanceProgress).items.map((i) => [i.instance, i.state])).toEqual(moving.map((m) => [m, "succeeded"]));
    const views = await until(() => admin().maintenance.list(), (vs) => vs.find((v) => v.host === target)?.state === "in-maintenance", `${target} empty`);
    expect(views.find((v) => v.host === target)).toMatchObject({ state: "in-maintenance", flag: true, runningVms: [] });
    expect((await admin().hosts.get({ name: target })).summary.maintenance).toBe(true);

    // Tenants see the moves of their own VMs (without host names), never the evacuation itself.
    const acmeOps = await backend.as(viewers.acme).operations.list({ limit: 100 });
    expect(acmeOps.some((o) => o.id === op.id)).toBe(false);
    expect(JSON.stringify(acmeOps)).not.toContain(target);

    expect(await admin().maintenance.exit({ host: target })).toMatchObject({ state: "active", flag: false });
  });

  it("abort is refused for an operation that is not an evacuation", async () => {
    const from = await hostOf("initech-ci");
    const op = await admin().instances.migrate({ instance: "initech-ci", destination: other(from), options: {} });
    await expect(admin().maintenance.abort({ id: op.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await settled(op.id);
  });
});

describe("storage migration through the API", () => {
  it("capacity with thresholds, a suggestion once a datastore crosses 80 %, and a disk moved live", async () => {
    try {
      await admin().lab.inject({ name: "fill-datastore", args: ["/instance", "85"] });
      const capacity = await until(() => admin().datastores.capacity({}), (c) => c.datastores.find((d) => d.path === "/instance")?.level === "warn", "/instance at 85 %");
      expect(capacity.thresholds).toEqual({ warnPct: 80, critPct: 90 });
      // Disks are listed per datastore on request only (a fleet has thousands).
      expect(capacity.disks).toEqual([]);
      const onInstance = await admin().datastores.capacity({ datastore: "/instance" });
      expect(onInstance.disks.length).toBeGreaterThan(0);
      expect(new Set(onInstance.disks.map((d) => d.datastore))).toEqual(new Set(["/instance"]));
      expect(capacity.datastores.map((d) => [d.path, d.level, d.mountedOn])).toEqual([["/instance", "warn", ["kvm1", "kvm2"]], ["/instance2", "ok", ["kvm1", "kvm2"]]]);
      const [suggestion] = capacity.suggestions;
      expect(suggestion).toMatchObject({ datastore: "/instance", enough: true });
      expect(suggestion!.moves.every((m) => m.to === "/instance2")).toBe(true);

      const targets = await admin().datastores.moveTargets({ instance: "acme-db", disk: "vda" });
      expect(targets.map((t) => [t.datastore, t.verdict])).toEqual([["/instance2", "pass"], ["/instance", "fail"]]);
      const op = await backend.as(viewers.operator).datastores.moveDisk({ instance: "acme-db", disk: "vda", datastore: "/instance2", bandwidthMiBps: 4000 });
      expect(op).toMatchObject({ kind: "storage-move", params: { mode: "live", destinationPath: "/instance2/acme-db.qcow2" } });
      expect((await settled(op.id)).state).toBe("succeeded");
      await backend.waitFor(() => backend.app.fleet.hosts().some((h) => h.inventory.virt?.domains.some((d) => d.name === "acme-db" && d.disks[0]?.path === "/instance2/acme-db.qcow2")), "the new disk path");
      expect((await admin().instances.history({ name: "acme-db" }))[0]).toMatchObject({ kind: "storage-move", from: "/instance", to: "/instance2", options: { bandwidthMiBps: 4000 } });
    } finally {
      await admin().lab.inject({ name: "restore-datastore", args: ["/instance"] });
    }
  });
});

describe("maintenance survives a server restart", () => {
  it("a host in maintenance is still in maintenance (and out of placement) after a restart", async () => {
    const dir = freshDataDir();
    const env = loadEnv({ NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_ADMIN_PASSWORD: "test-admin-password", NIMBUS_LOG_LEVEL: "silent" });
    const caller = (app: Awaited<ReturnType<typeof createApp>>) =>
      createCallerFactory(appRouter)({ deps: app.deps, live: app.live, health: app.health, topology: app.topology, viewer: viewers.admin, requestId: "t", ip: "127.0.0.1" });
    try {
      const first = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      await caller(first).hosts.setMaintenance({ name: "kvm2", on: true });
      await first.stop();
      const second = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        expect(second.fleet.host("kvm2")?.maintenance).toBe(true);
        expect(second.fleet.host("kvm1")?.maintenance).toBe(false);
        await until(async () => second.fleet.hosts(), (hs) => hs.every((h) => h.connection.state === "online"), "every lab host online", 60_000);
        const kvm2 = (await caller(second).instances.preflight({ name: "acme-web1" })).destinations.find((d) => d.host === "kvm2");
        expect(kvm2?.checks.find((c) => c.id === "reachable")).toMatchObject({ result: "fail", reason: "kvm2 is in maintenance" });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
