import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "@nimbus/api";
import { startBackend, viewers, type Backend } from "./backend.js";

/**
 * Signed in as tenant acme, every procedure is called with globex's ids and with no ids; nothing
 * of globex may come back, not even its name. The table must list EVERY procedure of the router:
 * adding one without a row here fails the first test.
 */
const B_MARKERS = ["globex", "Globex", "5002", "globex-app1", "globex-app2", "globex/api"];
const MISSING = "does-not-exist";

type Row = {
  otherIds?: unknown;
  noIds?: unknown;
  missingIds?: unknown;
  /** Proves the call was not vacuous. */
  mustContain?: string;
  /** Infrastructure a tenant must not learn either. */
  mustNotContain?: string[];
};
const table: Record<string, Row> = {
  "session.me": { noIds: undefined },
  "overview.get": { noIds: undefined },
  "hosts.list": { noIds: undefined },
  "hosts.get": { otherIds: { name: "kvm2" } },
  "hosts.acceptKey": { otherIds: { name: "kvm2" } },
  "hosts.setMaintenance": { otherIds: { name: "kvm2", on: true } },
  "instances.list": { noIds: undefined, mustContain: "acme-web1", mustNotContain: ['"kvm1"', '"kvm2"'] },
  "instances.get": { otherIds: { name: "globex-app1" }, missingIds: { name: MISSING } },
  "instances.migrationTargets": { otherIds: { name: "globex-app1" } },
  "instances.migrate": { otherIds: { instance: "globex-app1", destination: "kvm1", options: {} } },
  "instances.power": { otherIds: { name: "globex-app1", action: "reboot" }, missingIds: { name: MISSING, action: "reboot" } },
  "instances.preflight": { otherIds: { name: "globex-app1" } },
  "instances.history": { otherIds: { name: "globex-app1" } },
  "maintenance.list": { noIds: undefined },
  "maintenance.plan": { otherIds: { host: "kvm2" } },
  "maintenance.start": { otherIds: { host: "kvm2" } },
  "maintenance.abort": { otherIds: { id: "GLOBEX_OP" } },
  "maintenance.exit": { otherIds: { host: "kvm2" } },
  "datastores.capacity": { noIds: {} },
  "datastores.moveTargets": { otherIds: { instance: "globex-app1", disk: "vda" } },
  "datastores.moveDisk": { otherIds: { instance: "globex-app1", disk: "vda", datastore: "/instance2" } },
  "history.moves": { noIds: {}, otherIds: { instance: "globex-app1" } },
  "network.overview": { noIds: undefined },
  "network.topology": { noIds: undefined, mustContain: "5001", mustNotContain: ["kvm1", "kvm2"] },
  "swarm.overview": { noIds: undefined, mustContain: "acme-shop" },
  "swarm.scale": { otherIds: { service: "api", replicas: 5 } },
  "swarm.setAvailability": { otherIds: { node: "worker1", availability: "drain" } },
  "swarm.joinTokens": { noIds: undefined },
  "storage.overview": { noIds: undefined },
  "health.list": { noIds: undefined },
  "health.acknowledge": { otherIds: { id: "swarm:service:api" } },
  "operations.list": { noIds: {}, otherIds: { target: { type: "instance", name: "globex-app1" } } },
  "operations.get": { otherIds: { id: "GLOBEX_OP" }, missingIds: { id: MISSING } },
  "operations.cancel": { otherIds: { id: "GLOBEX_OP" } },
  "live.events": { noIds: {}, mustContain: "acme-web2" },
  "admin.users.list": { noIds: undefined },
  "admin.users.create": { otherIds: { email: "x@globex.example", name: "x", password: "long-enough-password", role: "tenant", tenant: "globex" } },
  "admin.users.setRole": { otherIds: { userId: "u-globex", role: "tenant", tenant: "acme" } },
  "admin.users.resetPassword": { otherIds: { userId: "u-globex" } },
  "admin.users.setDisabled": { otherIds: { userId: "u-globex", disabled: true } },
  "admin.tenants.list": { noIds: undefined },
  "admin.tenants.create": { otherIds: { slug: "globex2", name: "Globex 2" } },
  "admin.tenants.update": { otherIds: { slug: "globex", name: "mine now" } },
  "audit.list": { noIds: {}, otherIds: { user: "Gus Globex" } },
  "audit.csv": { noIds: {}, otherIds: { target: "globex-app1" } },
  "lab.faults": { noIds: undefined },
  "lab.inject": { otherIds: { name: "stop-host", args: ["kvm2"] } },
};

let backend: Backend;
let globexOp: string;

beforeAll(async () => {
  backend = await startBackend();
  // Something of globex's that acme could stumble on: an operation, and a live change.
  const where = (await backend.as(viewers.admin).instances.get({ name: "globex-app1" })).instance.host;
  const op = await backend.as(viewers.admin).instances.migrate({ instance: "globex-app1", destination: where === "kvm1" ? "kvm2" : "kvm1", options: {} });
  globexOp = op.id;
  await backend.as(viewers.admin).audit.list({ limit: 1, offset: 0 });
});
afterAll(() => backend?.stop());

const procedures = Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures);

async function call(path: string, input: unknown): Promise<{ ok: true; data: unknown } | { ok: false; code: string; message: string }> {
  const abort = new AbortController();
  const caller = backend.as(viewers.acme, abort.signal) as unknown as Record<string, unknown>;
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  const resolved = JSON.parse(JSON.stringify(input ?? null)?.replaceAll("GLOBEX_OP", globexOp) ?? "null");
  try {
    const result = await fn(input === undefined ? undefined : resolved);
    if (result && typeof result === "object" && Symbol.asyncIterator in result) {
      // A subscription: read what it sends for a moment while globex's VM changes state.
      const events: unknown[] = [];
      const it = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await backend.as(viewers.admin).instances.power({ name: "globex-app2", action: "reboot" });
      await backend.as(viewers.admin).instances.power({ name: "acme-web2", action: "reboot" });
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        const next = await Promise.race([it.next(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
        if (!next || next.done) break;
        events.push(next.value);
        if (JSON.stringify(next.value).includes("acme-web2")) break;
      }
      abort.abort();
      return { ok: true, data: events };
    }
    return { ok: true, data: result };
  } catch (err) {
    if (err instanceof TRPCError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

describe("tenant isolation over every procedure", () => {
  it("the table covers every procedure of the router", () => {
    expect(procedures.sort()).toEqual(Object.keys(table).sort());
  });

  for (const [path, row] of Object.entries(table)) {
    for (const variant of ["otherIds", "noIds"] as const) {
      if (!(variant in row)) continue;
      it(`${path} with ${variant === "otherIds" ? "globex's ids" : "no ids"} returns nothing of globex`, async () => {
        const r = await call(path, row[variant]);
        if (!r.ok) {
          expect(["NOT_FOUND", "FORBIDDEN"]).toContain(r.code);
          for (const m of B_MARKERS.filter((m) => !JSON.stringify(row[variant] ?? "").includes(m))) expect(r.message).not.toContain(m);
          return;
        }
        const json = JSON.stringify(r.data);
        for (const m of B_MARKERS) expect(json, `${path} leaked ${m}`).not.toContain(m);
        if (row.mustContain) expect(json).toContain(row.mustContain);
        for (const m of row.mustNotContain ?? []) expect(json, `${path} revealed ${m}`).not.toContain(m);
      });
    }
  }

  it("another tenant's ids answer exactly like missing ids", async () => {
    for (const [path, row] of Object.entries(table)) {
      if (!row.missingIds) continue;
      const other = await call(path, row.otherIds);
      const missing = await call(path, row.missingIds);
      expect(other.ok, path).toBe(false);
      expect(missing.ok, path).toBe(false);
      if (other.ok || missing.ok) continue;
      expect(other.code, path).toBe(missing.code);
      const otherId = JSON.stringify(row.otherIds).match(/globex-app1|GLOBEX_OP/)![0].replace("GLOBEX_OP", globexOp);
      expect(other.message.replace(otherId, "ID"), path).toBe(missing.message.replace(MISSING, "ID"));
    }
  });

  it("the tenant still sees its own instances, without host names", async () => {
    const mine = await backend.as(viewers.acme).instances.list();
    expect(mine.map((i) => i.name).sort()).toEqual(["acme-db", "acme-web1", "acme-web2"]);
    expect(mine.every((i) => i.tenant === "acme" && !["kvm1", "kvm2"].includes(i.host))).toBe(true);
  });
});
