import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "@nimbus/api";
import { startBackend, viewers, type Backend } from "./backend.js";

/**
 * Each role × each mutation: allowed (whatever else the call then says) or FORBIDDEN, as issue 3
 * specifies. Every mutation of the router must appear here.
 */
type RoleName = "admin" | "operator" | "oncall" | "acme";
const ALL: RoleName[] = ["admin", "operator", "oncall", "acme"];
const staffWorkload: RoleName[] = ["admin", "operator"];

let n = 0;
const matrix: Record<string, { allowed: RoleName[]; input: () => unknown }> = {
  "hosts.acceptKey": { allowed: ["admin"], input: () => ({ name: "kvm2" }) },
  "hosts.setMaintenance": { allowed: staffWorkload, input: () => ({ name: "nfs2", on: false }) },
  "instances.migrate": { allowed: staffWorkload, input: () => ({ instance: "acme-web1", destination: "nfs1", options: {} }) },
  // acme's tenant does not allow power actions (the default).
  "instances.power": { allowed: staffWorkload, input: () => ({ name: "acme-db", action: "start" }) },
  "swarm.scale": { allowed: staffWorkload, input: () => ({ service: "web", replicas: 3 }) },
  "swarm.setAvailability": { allowed: staffWorkload, input: () => ({ node: "worker2", availability: "active" }) },
  "swarm.joinTokens": { allowed: ["admin"], input: () => ({}) },
  "health.acknowledge": { allowed: ["admin", "operator", "oncall"], input: () => ({ id: "no-such-check" }) },
  "health.unacknowledge": { allowed: ["admin", "operator", "oncall"], input: () => ({ id: "no-such-check" }) },
  "operations.cancel": { allowed: staffWorkload, input: () => ({ id: "no-such-operation" }) },
  // Operators may enter and leave maintenance and move disks; inputs that change nothing.
  "maintenance.start": { allowed: staffWorkload, input: () => ({ host: "nfs2" }) },
  "maintenance.abort": { allowed: staffWorkload, input: () => ({ id: "no-such-operation" }) },
  "maintenance.exit": { allowed: staffWorkload, input: () => ({ host: "nfs2" }) },
  "datastores.moveDisk": { allowed: staffWorkload, input: () => ({ instance: "no-such-vm", disk: "vda", datastore: "/instance2" }) },
  "admin.users.create": { allowed: ["admin"], input: () => ({ email: `matrix${++n}@nimbus.test`, name: "M", password: "a-long-password-1", role: "oncall" }) },
  "admin.users.setRole": { allowed: ["admin"], input: () => ({ userId: "no-such-user", role: "oncall" }) },
  "admin.users.resetPassword": { allowed: ["admin"], input: () => ({ userId: "no-such-user" }) },
  "admin.users.setDisabled": { allowed: ["admin"], input: () => ({ userId: "no-such-user", disabled: true }) },
  "admin.tenants.create": { allowed: ["admin"], input: () => ({ slug: `t-matrix-${++n}`, name: "T" }) },
  "admin.tenants.update": { allowed: ["admin"], input: () => ({ slug: "initech", name: "Initech" }) },
  "lab.inject": { allowed: ["admin"], input: () => ({ name: "restore-datastore", args: ["/instance"] }) },
};

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

const mutations = Object.entries((appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: string } }> } })._def.procedures)
  .filter(([, p]) => p._def.type === "mutation")
  .map(([path]) => path);

async function attempt(role: RoleName, path: string, input: unknown): Promise<string> {
  const caller = backend.as(viewers[role]) as unknown as Record<string, unknown>;
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  try {
    await fn(input);
    return "OK";
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

describe("role matrix", () => {
  it("lists every mutation of the router", () => {
    expect(mutations.sort()).toEqual(Object.keys(matrix).sort());
  });

  for (const [path, { allowed, input }] of Object.entries(matrix)) {
    for (const role of ALL) {
      const expected = allowed.includes(role);
      it(`${role} ${expected ? "may" : "may not"} call ${path}`, async () => {
        const code = await attempt(role, path, input());
        if (expected) expect(["FORBIDDEN", "UNAUTHORIZED"]).not.toContain(code);
        else expect(code).toBe("FORBIDDEN");
      });
    }
  }

  it("a tenant whose tenant allows it may power its own instances, never another tenant's", async () => {
    await backend.as(viewers.admin).admin.tenants.update({ slug: "acme", allowPower: true });
    expect(await attempt("acme", "instances.power", { name: "acme-db", action: "start" })).not.toBe("FORBIDDEN");
    expect(await attempt("acme", "instances.power", { name: "globex-app1", action: "start" })).toBe("NOT_FOUND");
    await backend.as(viewers.admin).admin.tenants.update({ slug: "acme", allowPower: false });
  });

  it("signed-out callers are refused everywhere but session.me", async () => {
    const anon = (await import("@nimbus/api")).createCallerFactory(appRouter)({ deps: backend.app.deps, live: backend.app.live, health: backend.app.health, topology: backend.app.topology, viewer: null, requestId: "anon", ip: null });
    expect(await anon.session.me()).toBeNull();
    await expect(anon.instances.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(anon.hosts.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("every mutation, allowed or refused, is in the audit log with the caller and the result", async () => {
    await attempt("oncall", "swarm.scale", { service: "web", replicas: 4 });
    const { records } = await backend.as(viewers.admin).audit.list({ action: "swarm.scale", limit: 50, offset: 0 });
    const refused = records.find((r) => r.userName === viewers.oncall.name);
    expect(refused).toMatchObject({ role: "oncall", result: "error", errorCode: "FORBIDDEN", target: "web" });
    const created = (await backend.as(viewers.admin).audit.list({ action: "admin.users.create", limit: 50, offset: 0 })).records[0];
    expect(JSON.stringify(created?.inputSummary)).not.toContain("a-long-password-1");
  });
});
