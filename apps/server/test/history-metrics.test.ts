import { TRPCError } from "@trpc/server";
import type { Timeline } from "@nimbus/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, until, viewers, type Backend } from "./backend.js";
import { fleetSecrets, secretsIn } from "./fleet-secrets.js";

/**
 * Metric history and the health timeline through the whole server over the embedded lab: samples
 * come from the pushed inventory, a VIP failover is recorded with its cause and duration, and a
 * migration appears on the same timeline. Tenants read their own instances' charts only. Rates
 * come from the counters the lab's agents push (`stats.counters`, every 2 s at lab speed 10).
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const lastHour = () => ({ from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof TRPCError) return { code: err.code, message: err.message };
    throw err;
  }
};

describe("metric history", () => {
  it("a host's samples come from its pushed inventory and are charted (from the writer until their bucket is stored)", async () => {
    const admin = backend.as(viewers.admin);
    const node = backend.app.fleet.host("kvm1")!.inventory.node!;
    backend.app.recorder.sample(Date.now() - 20_000);
    const lastSampleAt = Date.now() - 10_000;
    backend.app.recorder.sample(lastSampleAt);
    const cpu = await until(
      () => admin.metrics.series({ kind: "host", name: "kvm1", metric: "memory", range: lastHour() }),
      (s) => s.points.length >= 2,
      "two samples of kvm1 stored",
    );
    expect(cpu).toMatchObject({ object: "host:kvm1", metric: "memory", unit: "%", resolution: "raw" });
    const expected = Math.round((node.memoryUsedMiB / node.memoryTotalMiB) * 10000) / 100;
    expect(cpu.points.at(-1)!.avg).toBeCloseTo(expected, 1);
    // Datastores and services are sampled too (from the VIP holder, from a swarm manager).
    const ds = await admin.metrics.series({ kind: "datastore", name: "/instance", metric: "used", range: lastHour() });
    expect(ds.points.length).toBeGreaterThan(0);
    const svc = await admin.metrics.series({ kind: "service", name: "web", metric: "desired", range: lastHour() });
    expect(svc.points.length).toBeGreaterThan(0);
    // A day's chart (as the charts ask: 400 points) reads 5-minute rollups, and the buckets the
    // writer has not stored yet from the samples: the newest sample is on it.
    const day = await admin.metrics.series({ kind: "host", name: "kvm1", metric: "memory", range: { from: Date.now() - 86_400_000 + 60_000, to: Date.now() + 60_000, maxPoints: 400 } });
    expect(day).toMatchObject({ resolution: "5m", step: 300_000 });
    expect(day.points.at(-1)!.t).toBeGreaterThanOrEqual(Math.floor(lastSampleAt / 300_000) * 300_000);
    expect(day.points.at(-1)!.avg).not.toBeNull();
  });

  it("refuses a metric the object does not have, a reversed range, more than 30 days, too many points", async () => {
    const admin = backend.as(viewers.admin);
    const now = Date.now();
    expect(await refusal(admin.metrics.series({ kind: "host", name: "kvm1", metric: "replicas", range: lastHour() }))).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("cpu, memory, disk") });
    expect((await refusal(admin.metrics.series({ kind: "host", name: "kvm1", metric: "cpu", range: { from: now, to: now - 1 } })))?.code).toBe("BAD_REQUEST");
    expect((await refusal(admin.metrics.series({ kind: "host", name: "kvm1", metric: "cpu", range: { from: now - 31 * 86_400_000, to: now } })))?.code).toBe("BAD_REQUEST");
    expect((await refusal(admin.metrics.series({ kind: "host", name: "kvm1", metric: "cpu", range: { from: now - 1000, to: now, maxPoints: 100_000 } })))?.code).toBe("BAD_REQUEST");
  });

  it("a tenant reads its own instance's chart, with no host in it; another tenant's answers like a missing one", async () => {
    backend.app.recorder.sample();
    const acme = backend.as(viewers.acme);
    const own = await until(() => acme.metrics.instance({ instance: "acme-web1", metric: "up", range: lastHour() }), (s) => s.points.length > 0, "acme-web1 sampled");
    expect(own.object).toBe("instance:acme-web1");
    expect(secretsIn(JSON.stringify(own), fleetSecrets(backend.app.fleet.hosts()), [])).toEqual([]);
    const other = await refusal(acme.metrics.instance({ instance: "globex-app1", metric: "up", range: lastHour() }));
    const missing = await refusal(acme.metrics.instance({ instance: "does-not-exist", metric: "up", range: lastHour() }));
    expect(other?.code).toBe("NOT_FOUND");
    expect(other?.message.replace("globex-app1", "ID")).toBe(missing?.message.replace("does-not-exist", "ID"));
    // The staff series of an instance is not open to tenants at all.
    expect((await refusal(acme.metrics.series({ kind: "instance", name: "acme-web1", metric: "up", range: lastHour() })))?.code).toBe("FORBIDDEN");
  });
});

/** Samples until the series has a point with a value (the first pushes give baselines, not rates). */
async function charted<T extends { points: { avg: number | null }[] }>(get: () => Promise<T>, what: string): Promise<T> {
  return until(
    async () => {
      backend.app.recorder.sample();
      return get();
    },
    (s) => s.points.some((p) => p.avg !== null && p.avg > 0),
    what,
    30_000,
  );
}

describe("rates from the agents' counters", () => {
  it("a host's network in and out and its CPU come from its counters", async () => {
    const admin = backend.as(viewers.admin);
    await backend.waitFor(() => backend.app.recorder.rates.host("kvm1", Date.now()), "kvm1's first rates");
    const rx = await charted(() => admin.metrics.series({ kind: "host", name: "kvm1", metric: "netRx", range: lastHour() }), "kvm1 network in charted");
    expect(rx).toMatchObject({ object: "host:kvm1", unit: "B/s", resolution: "raw" });
    // The lab's uplink carries its VMs' traffic and NFS I/O: tens of KiB/s to MiB/s, never absurd.
    const last = rx.points.filter((p) => p.avg !== null).at(-1)!.avg!;
    expect(last).toBeGreaterThan(1024);
    expect(last).toBeLessThan(1024 ** 3);
    const tx = await charted(() => admin.metrics.series({ kind: "host", name: "kvm1", metric: "netTx", range: lastHour() }), "kvm1 network out charted");
    expect(tx.unit).toBe("B/s");
    const rates = backend.app.recorder.rates.host("kvm1", Date.now())!;
    expect(rates.cpuPct).toBeGreaterThanOrEqual(0);
    expect(rates.cpuPct).toBeLessThanOrEqual(100);
  });

  it("a VM's CPU, network, disk I/O and memory in use; a swarm service's CPU; a datastore's I/O", async () => {
    const admin = backend.as(viewers.admin);
    for (const metric of ["cpu", "netRx", "netTx", "diskRead", "diskWrite", "memoryUsed"]) {
      const s = await charted(() => admin.metrics.series({ kind: "instance", name: "acme-web1", metric, range: lastHour() }), `acme-web1 ${metric}`);
      for (const p of s.points) if (p.avg !== null) expect(p.avg).toBeGreaterThanOrEqual(0);
      if (metric === "cpu") for (const p of s.points) if (p.max !== null) expect(p.max).toBeLessThanOrEqual(100);
    }
    const svc = await charted(() => admin.metrics.series({ kind: "service", name: "web", metric: "cpu", range: lastHour() }), "service web CPU");
    expect(svc.unit).toBe("%");
    for (const metric of ["read", "write"]) {
      const ds = await charted(() => admin.metrics.series({ kind: "datastore", name: "/instance", metric, range: lastHour() }), `datastore /instance ${metric}`);
      expect(ds.unit).toBe("B/s");
    }
  });

  it("a tenant reads its own instance's rates with no host in them; another tenant's answers like a missing one", async () => {
    const acme = backend.as(viewers.acme);
    const own = await charted(() => acme.metrics.instance({ instance: "acme-web1", metric: "netRx", range: lastHour() }), "acme-web1 network in for its tenant");
    expect(own.object).toBe("instance:acme-web1");
    expect(secretsIn(JSON.stringify(own), fleetSecrets(backend.app.fleet.hosts()), [])).toEqual([]);
    for (const metric of ["cpu", "netRx", "diskWrite", "memoryUsed"] as const) {
      const other = await refusal(acme.metrics.instance({ instance: "globex-app1", metric, range: lastHour() }));
      const missing = await refusal(acme.metrics.instance({ instance: "does-not-exist", metric, range: lastHour() }));
      expect(other?.code).toBe("NOT_FOUND");
      expect(other?.message.replace("globex-app1", "ID")).toBe(missing?.message.replace("does-not-exist", "ID"));
    }
    // Host rates are staff data.
    expect((await refusal(acme.metrics.series({ kind: "host", name: "kvm1", metric: "netRx", range: lastHour() })))?.code).toBe("FORBIDDEN");
  });
});

describe("the health timeline", () => {
  it("a VIP failover appears with its cause and duration, and a migration on the same timeline", { timeout: 120_000 }, async () => {
    const admin = backend.as(viewers.admin);
    const from = Date.now() - 60_000;
    const timeline = (subject: Parameters<typeof admin.history.timeline>[0]["subject"]) => admin.history.timeline({ subject, range: { from, to: Date.now() + 60_000 } });
    const holder = () => backend.app.fleet.hosts().find((h) => h.connection.state === "online" && h.inventory.storage?.nfs?.vip?.heldHere)?.name;
    const primary = await until(async () => holder(), (h) => !!h, "a VIP holder");

    await admin.lab.inject({ name: "fail-nfs-primary", args: [] });
    const failed = await until(
      () => timeline({ kind: "fleet" }),
      (t: Timeline) => t.failovers.some((f) => f.heldAt !== null),
      "the failover recorded",
      60_000,
    );
    const f = failed.failovers.find((x) => x.heldAt !== null)!;
    expect(f.from).toBe(primary);
    expect(f.to).not.toBe(primary);
    expect(f.to).toBe(holder());
    expect(f.cause).toContain(`the NFS server stopped on ${primary}`);
    expect(f.durationMs).toBe(Date.parse(f.heldAt!) - Date.parse(f.lostAt));
    expect(failed.events.find((e) => e.kind === "failover")).toMatchObject({ title: expect.stringContaining(`moved from ${primary} to ${f.to}`), detail: expect.stringMatching(/without a holder for \d+ (ms|s)|taken over at once/) });
    // The holder lane: held by the primary, a gap, held by the backup.
    const lane = failed.lanes.find((l) => l.id.startsWith("vip:"))!;
    expect(lane.spans.map((s) => s.message)).toEqual(expect.arrayContaining([`held by ${primary}`, `held by ${f.to}`]));
    // The storage server's own check goes critical on the same timeline (after its hysteresis).
    await until(() => timeline({ kind: "fleet" }), (t: Timeline) => t.lanes.some((l) => l.id === `storage:server:${primary}` && l.spans.some((s) => s.state !== "ok")), `storage:server:${primary} failing on the timeline`, 30_000);

    // A migration after it: the instance's timeline shows both, newest first.
    const vm = (await admin.instances.get({ name: "acme-web2" })).instance;
    const destination = vm.host === "kvm1" ? "kvm2" : "kvm1";
    const op = await admin.instances.migrate({ instance: "acme-web2", destination, options: {} });
    await until(() => admin.operations.get({ id: op.id }), (o) => o.state === "succeeded" || o.state === "failed", "the migration settled", 60_000);
    const onInstance = await timeline({ kind: "instance", name: "acme-web2" });
    const kinds = onInstance.events.map((e) => e.kind);
    expect(kinds.indexOf("operation")).toBeLessThan(kinds.indexOf("failover"));
    expect(onInstance.events.find((e) => e.kind === "operation")).toMatchObject({ ref: op.id, by: viewers.admin.name, title: expect.stringContaining("acme-web2") });
    // The destination host's timeline has the migration, another host's does not.
    const onDest = await timeline({ kind: "host", name: destination });
    expect(onDest.events.some((e) => e.ref === op.id)).toBe(true);
    const onNfs = await timeline({ kind: "host", name: "manager" });
    expect(onNfs.events.some((e) => e.ref === op.id)).toBe(false);

    await admin.lab.inject({ name: "restore-nfs-primary", args: [] });
  });

  it("an acknowledgement and its taking back are on the check's timeline with who and the note", { timeout: 60_000 }, async () => {
    const admin = backend.as(viewers.admin);
    const from = Date.now() - 1000;
    await admin.lab.inject({ name: "stop-host", args: ["worker2"] });
    await until(async () => (await admin.health.list()).find((c) => c.id === "host:worker2")?.state, (s) => s === "crit", "worker2 critical", 60_000);
    await admin.health.acknowledge({ id: "host:worker2", note: "power cable" });
    await admin.health.unacknowledge({ id: "host:worker2" });
    const t = await until(
      () => admin.history.timeline({ subject: { kind: "host", name: "worker2" }, range: { from, to: Date.now() + 60_000 } }),
      (x) => x.events.filter((e) => e.kind === "ack" || e.kind === "unack").length === 2 && x.lanes.find((l) => l.id === "host:worker2")?.spans.at(-1)?.state === "crit",
      "both ack events and the critical state",
    );
    expect(t.events.find((e) => e.kind === "ack")).toMatchObject({ by: viewers.admin.name, detail: "power cable", ref: "host:worker2" });
    expect(t.lanes.find((l) => l.id === "host:worker2")!.spans.at(-1)).toMatchObject({ state: "crit", to: null });
    await admin.lab.inject({ name: "start-host", args: ["worker2"] });
  });

  it("is staff only, bounded in range and page size", async () => {
    const now = Date.now();
    expect((await refusal(backend.as(viewers.acme).history.timeline({ subject: { kind: "fleet" }, range: { from: now - 1000, to: now } })))?.code).toBe("FORBIDDEN");
    const admin = backend.as(viewers.admin);
    expect((await refusal(admin.history.timeline({ subject: { kind: "fleet" }, range: { from: now - 31 * 86_400_000, to: now } })))?.code).toBe("BAD_REQUEST");
    expect((await refusal(admin.history.timeline({ subject: { kind: "fleet" }, range: { from: now - 1000, to: now, limit: 10_000 } })))?.code).toBe("BAD_REQUEST");
    const page = await admin.history.timeline({ subject: { kind: "fleet" }, range: { from: now - 3_600_000, to: now + 60_000, limit: 1 } });
    expect(page.events.length).toBeLessThanOrEqual(1);
    if (page.nextBefore !== null) {
      const next = await admin.history.timeline({ subject: { kind: "fleet" }, range: { from: now - 3_600_000, to: now + 60_000, limit: 1, before: page.nextBefore } });
      expect(next.events.every((e) => e.at < page.nextBefore!)).toBe(true);
    }
  });
});
