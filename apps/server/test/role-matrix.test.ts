import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCallerFactory } from "@nimbus/api";
import { startBackend, viewers, type Backend } from "./backend.js";

/**
 * Each role × each procedure (query, mutation and subscription): allowed (whatever else the call
 * then says) or FORBIDDEN, as domain/access.ts grants. Every procedure of the router must appear
 * here, so a permission widened by accident (a staff query opened to tenants, an admin mutation
 * to operators) fails this test.
 */
type RoleName = "admin" | "operator" | "oncall" | "acme";
const ALL: RoleName[] = ["admin", "operator", "oncall", "acme"];
const staff: RoleName[] = ["admin", "operator", "oncall"];
const staffWorkload: RoleName[] = ["admin", "operator"];
const admins: RoleName[] = ["admin"];

let n = 0;
const createRequest = (image: string) => ({ name: "matrix-vm", image, vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "acme", network: { vlan: 10, vni: 5001 } });
const matrix: Record<string, { allowed: RoleName[]; input: () => unknown }> = {
  "session.me": { allowed: ALL, input: () => undefined },
  "overview.get": { allowed: staff, input: () => undefined },
  "hosts.list": { allowed: staff, input: () => undefined },
  "hosts.page": { allowed: staff, input: () => ({ q: "kvm", limit: 5 }) },
  "hosts.get": { allowed: staff, input: () => ({ name: "kvm1" }) },
  "hosts.acceptKey": { allowed: admins, input: () => ({ name: "kvm2", fingerprint: "SHA256:seen-by-the-admin" }) },
  "hosts.setMaintenance": { allowed: staffWorkload, input: () => ({ name: "nfs2", on: false }) },
  "instances.list": { allowed: ALL, input: () => undefined },
  "instances.page": { allowed: ALL, input: () => ({ q: "acme", limit: 5 }) },
  "instances.get": { allowed: ALL, input: () => ({ name: "acme-web1" }) },
  "instances.migrationTargets": { allowed: staffWorkload, input: () => ({ name: "acme-web1" }) },
  "instances.preflight": { allowed: staffWorkload, input: () => ({ name: "acme-web1" }) },
  "instances.history": { allowed: staff, input: () => ({ name: "acme-web1" }) },
  "instances.migrate": { allowed: staffWorkload, input: () => ({ instance: "acme-web1", destination: "nfs1", options: {} }) },
  // acme's tenant does not allow power actions (the default).
  "instances.power": { allowed: staffWorkload, input: () => ({ name: "acme-db", action: "start" }) },
  // Tenants create and delete their own instances; oncall may not. Inputs that start nothing (an image no datastore has, a wrong confirmation).
  "instances.placement": { allowed: [...staffWorkload, "acme"], input: () => createRequest("debian-12") },
  "instances.create": { allowed: [...staffWorkload, "acme"], input: () => createRequest("no-such-image") },
  "instances.delete": { allowed: [...staffWorkload, "acme"], input: () => ({ name: "acme-db", confirm: "not-its-name" }) },
  // Snapshots: tenants on their own instances, staff with workload:power; a create takes a real (lab) snapshot, the others name none.
  "instances.snapshots": { allowed: ALL, input: () => ({ instance: "acme-web1" }) },
  "instances.snapshotCreate": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-db", name: `matrix-${++n}` }) },
  "instances.snapshotRevert": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-db", name: "no-such-snapshot" }) },
  "instances.snapshotDelete": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-db", name: "no-such-snapshot" }) },
  // Consoles: tenants on their own instances, staff with workload:console (oncall may not); input and close name no open console (NOT_FOUND or a no-op).
  "instances.console": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-web1" }) },
  "instances.consoleInput": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-web2", data: "\r" }) },
  "instances.consoleClose": { allowed: [...staffWorkload, "acme"], input: () => ({ instance: "acme-web2" }) },
  "images.list": { allowed: ALL, input: () => undefined },
  // Admins import and delete images; inputs that start nothing (a datastore no server exports, an image no datastore has).
  "images.usage": { allowed: staff, input: () => undefined },
  "images.import": { allowed: admins, input: () => ({ datastore: "/no-such-datastore", name: "matrix-img", os: "debian12", source: { kind: "file", path: "/srv/matrix.qcow2" }, checksum: { algorithm: "sha256", value: "a".repeat(64) } }) },
  "images.delete": { allowed: admins, input: () => ({ datastore: "/instance", name: "no-such-image" }) },
  "images.build": { allowed: admins, input: () => ({ datastore: "/no-such-datastore", recipe: "debian-12-docker" }) },
  "tenants.quota": { allowed: ALL, input: () => ({ tenant: "acme" }) },
  "tenants.setQuota": { allowed: admins, input: () => ({ tenant: "initech", quota: { instances: 3, vcpus: 6, memoryMiB: 8192, diskGiB: 100 } }) },
  "network.topology": { allowed: ALL, input: () => undefined },
  "network.overview": { allowed: ALL, input: () => undefined },
  "swarm.overview": { allowed: ALL, input: () => undefined },
  "swarm.scale": { allowed: staffWorkload, input: () => ({ service: "web", replicas: 3 }) },
  "swarm.setAvailability": { allowed: staffWorkload, input: () => ({ node: "worker2", availability: "active" }) },
  "swarm.joinTokens": { allowed: admins, input: () => ({}) },
  // Swarm nodes: inputs that build, remove or promote nothing (a taken name, a wrong confirmation, a swarm that exists, a node already a manager).
  "swarmNodes.plan": { allowed: staffWorkload, input: () => ({ name: "matrix-worker", vcpus: 1, memoryMiB: 512, diskGiB: 4 }) },
  "swarmNodes.addWorker": { allowed: staffWorkload, input: () => ({ name: "manager", vcpus: 1, memoryMiB: 512, diskGiB: 4 }) },
  "swarmNodes.removeCheck": { allowed: staffWorkload, input: () => ({ node: "worker1" }) },
  "swarmNodes.removeWorker": { allowed: staffWorkload, input: () => ({ node: "worker1", confirm: "not-its-name" }) },
  "swarmNodes.createSwarm": { allowed: staffWorkload, input: () => ({ name: "matrix-mgr", bridge: "br0" }) },
  "swarmNodes.roleImpact": { allowed: admins, input: () => ({ node: "worker1", role: "manager" }) },
  "swarmNodes.setRole": { allowed: admins, input: () => ({ node: "manager", role: "manager" }) },
  "swarmNodes.rotateToken": { allowed: admins, input: () => ({ role: "worker" }) },
  "swarmNodes.autoscale": { allowed: staff, input: () => undefined },
  "swarmNodes.setPolicy": { allowed: staffWorkload, input: () => ({ service: "monitoring", minReplicas: 1, maxReplicas: 2 }) },
  "swarmNodes.deletePolicy": { allowed: staffWorkload, input: () => ({ service: "no-policy" }) },
  "swarmNodes.acceptSuggestion": { allowed: staffWorkload, input: () => ({ service: "web" }) },
  // Services: staff who scale, and a tenant's members on their own services (web is acme's). The update names the image web runs (CONFLICT, nothing starts).
  "swarm.services.update": { allowed: [...staffWorkload, "acme"], input: () => ({ service: "web", image: "nginx:1.25-alpine" }) },
  "swarm.services.rollback": { allowed: [...staffWorkload, "acme"], input: () => ({ service: "web" }) },
  "swarm.services.logs": { allowed: ALL, input: () => ({ service: "web", tail: 5, follow: false }) },
  // Stacks: staff with swarm:stacks, tenants in their own namespace; inputs that deploy nothing (a file without services, a stack that does not exist).
  "stacks.list": { allowed: ALL, input: () => undefined },
  "stacks.validate": { allowed: [...staffWorkload, "acme"], input: () => ({ name: "matrix", compose: ["services:\n  web:\n    image: nginx:1.25\n"] }) },
  "stacks.deploy": { allowed: [...staffWorkload, "acme"], input: () => ({ name: "matrix", compose: ["services: {}\n"] }) },
  "stacks.remove": { allowed: [...staffWorkload, "acme"], input: () => ({ name: "no-such-stack" }) },
  "storage.overview": { allowed: staff, input: () => undefined },
  "health.list": { allowed: staff, input: () => undefined },
  "health.page": { allowed: staff, input: () => ({ problems: true, limit: 5 }) },
  "health.acknowledge": { allowed: staff, input: () => ({ id: "no-such-check" }) },
  "health.unacknowledge": { allowed: staff, input: () => ({ id: "no-such-check" }) },
  // On-call staff see, acknowledge and silence alerts; only admins change rules and channels (whose secrets they set).
  "alerts.list": { allowed: staff, input: () => undefined },
  "alerts.watch": { allowed: staff, input: () => undefined },
  "alerts.acknowledge": { allowed: staff, input: () => ({ id: "no-such-alert", note: "on it" }) },
  "alerts.unacknowledge": { allowed: staff, input: () => ({ id: "no-such-alert" }) },
  "alerts.silences": { allowed: staff, input: () => undefined },
  "alerts.silence": { allowed: staff, input: () => ({ match: { checks: "host:no-such-host" }, minutes: 5 }) },
  "alerts.endSilence": { allowed: staff, input: () => ({ id: "00000000-0000-4000-8000-000000000000" }) },
  "alerts.rules": { allowed: staff, input: () => undefined },
  "alerts.updateRule": { allowed: admins, input: () => ({ id: "no-such-rule", patch: { enabled: false } }) },
  "alerts.channels": { allowed: admins, input: () => undefined },
  "alerts.createChannel": { allowed: admins, input: () => ({ id: `matrix-${++n}`, name: "M", target: { kind: "webhook", config: { url: "http://127.0.0.1:9/hook" } }, secret: "matrix-hmac-key" }) },
  "alerts.updateChannel": { allowed: admins, input: () => ({ id: "no-such-channel", name: "M", target: { kind: "webhook", config: { url: "http://127.0.0.1:9/hook" } } }) },
  "alerts.deleteChannel": { allowed: admins, input: () => ({ id: "no-such-channel" }) },
  "alerts.testChannel": { allowed: admins, input: () => ({ id: "no-such-channel" }) },
  "alerts.deliveries": { allowed: admins, input: () => undefined },
  "operations.list": { allowed: ALL, input: () => ({}) },
  "operations.page": { allowed: ALL, input: () => ({ state: "active", limit: 5 }) },
  "operations.get": { allowed: ALL, input: () => ({ id: "no-such-operation" }) },
  // Tenant members cancel their own creates, stack deploys/removals and service updates (other operations: FORBIDDEN or NOT_FOUND after the role check).
  "operations.cancel": { allowed: [...staffWorkload, "acme"], input: () => ({ id: "no-such-operation" }) },
  // Operators may enter and leave maintenance and move disks; inputs that change nothing.
  "maintenance.list": { allowed: staff, input: () => undefined },
  "maintenance.plan": { allowed: staffWorkload, input: () => ({ host: "nfs2" }) },
  "maintenance.start": { allowed: staffWorkload, input: () => ({ host: "nfs2" }) },
  "maintenance.abort": { allowed: staffWorkload, input: () => ({ id: "no-such-operation" }) },
  "maintenance.exit": { allowed: staffWorkload, input: () => ({ host: "nfs2" }) },
  "datastores.capacity": { allowed: staff, input: () => ({}) },
  "datastores.moveTargets": { allowed: staffWorkload, input: () => ({ instance: "acme-web1", disk: "vda" }) },
  "datastores.moveDisk": { allowed: staffWorkload, input: () => ({ instance: "no-such-vm", disk: "vda", datastore: "/instance2" }) },
  // Load balancers: staff read, lb:manage (admins and operators) change; inputs that start nothing (a service that does not exist, names that do not).
  "loadBalancers.list": { allowed: staff, input: () => undefined },
  "loadBalancers.get": { allowed: staff, input: () => ({ name: "no-such-lb" }) },
  "loadBalancers.options": { allowed: staff, input: () => undefined },
  "loadBalancers.create": { allowed: staffWorkload, input: () => ({ name: "matrix-lb", edgeHost: "manager", bind: { address: "0.0.0.0", port: 8081 }, target: { kind: "service", service: "no-such-service" } }) },
  "loadBalancers.update": { allowed: staffWorkload, input: () => ({ name: "no-such-lb", edgeHost: "manager", bind: { address: "0.0.0.0", port: 8081 }, target: { kind: "service", service: "web" } }) },
  "loadBalancers.reapply": { allowed: staffWorkload, input: () => ({ name: "no-such-lb" }) },
  "loadBalancers.delete": { allowed: staffWorkload, input: () => ({ name: "no-such-lb" }) },
  "history.moves": { allowed: staff, input: () => ({}) },
  "history.movesPage": { allowed: staff, input: () => ({ kind: "migrate", limit: 5 }) },
  "history.timeline": { allowed: staff, input: () => ({ subject: { kind: "host", name: "kvm1" }, range: { from: Date.now() - 3_600_000, to: Date.now() } }) },
  "metrics.series": { allowed: staff, input: () => ({ kind: "host", name: "kvm1", metric: "cpu", range: { from: Date.now() - 3_600_000, to: Date.now() } }) },
  "metrics.instance": { allowed: ALL, input: () => ({ instance: "acme-web1", metric: "up", range: { from: Date.now() - 3_600_000, to: Date.now() } }) },
  "live.events": { allowed: ALL, input: () => ({}) },
  "admin.users.list": { allowed: admins, input: () => undefined },
  "admin.users.create": { allowed: admins, input: () => ({ email: `matrix${++n}@nimbus.test`, name: "M", password: "a-long-password-1", role: "oncall" }) },
  "admin.users.setRole": { allowed: admins, input: () => ({ userId: "no-such-user", role: "oncall" }) },
  "admin.users.resetPassword": { allowed: admins, input: () => ({ userId: "no-such-user" }) },
  "admin.users.setDisabled": { allowed: admins, input: () => ({ userId: "no-such-user", disabled: true }) },
  // Staff read the tenant list (tenant pages, the VNI pool); only admins change it.
  "admin.tenants.list": { allowed: staff, input: () => undefined },
  "admin.tenants.create": { allowed: admins, input: () => ({ slug: `t-matrix-${++n}`, name: "T" }) },
  "admin.tenants.update": { allowed: admins, input: () => ({ slug: "initech", name: "Initech" }) },
  "audit.list": { allowed: ["admin", "oncall"], input: () => ({ limit: 5, offset: 0 }) },
  "audit.csv": { allowed: ["admin", "oncall"], input: () => ({}) },
  "lab.faults": { allowed: admins, input: () => undefined },
  "lab.inject": { allowed: admins, input: () => ({ name: "restore-datastore", args: ["/instance"] }) },
};

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

const procedures = Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures);

async function attempt(role: RoleName, path: string, input: unknown): Promise<string> {
  const abort = new AbortController();
  const caller = backend.as(viewers[role], abort.signal) as unknown as Record<string, unknown>;
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  try {
    const result = await fn(input);
    // A subscription: allowed once it streams its first event.
    if (result && typeof result === "object" && Symbol.asyncIterator in result) await (result as AsyncIterable<unknown>)[Symbol.asyncIterator]().next();
    return "OK";
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  } finally {
    abort.abort();
  }
}

describe("role matrix", () => {
  it("lists every procedure of the router", () => {
    expect([...procedures].sort()).toEqual(Object.keys(matrix).sort());
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

  it("signed-out callers are refused every procedure but session.me", async () => {
    const anon = createCallerFactory(appRouter)({ deps: backend.app.deps, live: backend.app.live, health: backend.app.health, topology: backend.app.topology, viewer: null, requestId: "anon", ip: null });
    expect(await anon.session.me()).toBeNull();
    for (const [path, { input }] of Object.entries(matrix)) {
      if (path === "session.me") continue;
      const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], anon) as (i: unknown) => Promise<unknown>;
      await expect(fn(input()), path).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
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
