import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { ApiClient, signInRequest, TrpcError } from "./harness/client.js";
import { waitFor } from "./harness/wait.js";

/**
 * Two server processes in replica mode on one PostgreSQL, one standalone lab, HAProxy in front:
 * sessions and the quota lock across replicas, then a migration sent to replica A for a host
 * replica B owns runs on B; B is SIGKILLed mid-migration and A adopts the operation, reconciles it
 * from the agent and it ends once.
 */
const pgUrl = process.env.DATABASE_URL;
let cluster: Cluster;
let db: pg.Client;
let admin: ApiClient;

beforeAll(async () => {
  if (!pgUrl) throw new Error("these tests need a PostgreSQL: DATABASE_URL (packages/db/scripts/with-postgres.sh)");
  // Lab speed 1: the migration below lasts long enough to kill its replica in the middle.
  cluster = await startCluster({ replicas: 2, labSpeed: 1 });
  db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  admin = await ApiClient.signIn(cluster.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, cluster.url);
}, 240_000);
afterAll(async () => {
  await db?.end();
  await cluster?.stop();
});

const owner = async (host: string): Promise<string | null> =>
  (await db.query<{ owner: string | null }>(`select owner from host_leases where host = $1 and expires_at > now()`, [host])).rows[0]?.owner ?? null;
const row = async (id: string) => (await db.query<{ replica: string | null; state: string }>(`select replica, state from operations where id = $1`, [id])).rows[0];
type Op = { id: string; state: string; host: string; params: Record<string, unknown>; error: string | null };

describe("operations and accounts across replicas", () => {
  it("a session made through one replica works on the other", async () => {
    const [r1, r2] = cluster.replicas;
    const through1 = await ApiClient.signIn(r1!.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, r1!.url);
    const me = await through1.query<{ user: { role: string } }>(r2!.url, "session.me");
    expect(me.user.role).toBe("admin");
  });

  it("failed sign-ins made through both replicas count against one limit (the servers keep them in the database)", async () => {
    const [r1, r2] = cluster.replicas;
    const user = { email: "limits@nimbus.local", name: "Limits", password: "limits-password-long-1", role: "oncall", tenant: null };
    await admin.mutate(cluster.url, "admin.users.create", user);
    // Five wrong passwords (the per-account-and-address limit), alternating: each replica sees two or three.
    for (let i = 0; i < 5; i++) expect((await signInRequest(i % 2 ? r2!.url : r1!.url, { email: user.email, password: `wrong-${i}-password` })).status).toBe(401);
    for (const r of [r1!, r2!]) expect((await signInRequest(r.url, { email: user.email, password: user.password })).status).toBe(429);
  });

  it("a tenant created through one replica is known to the other (its directory reloads from the bus)", async () => {
    const [r1, r2] = cluster.replicas;
    await admin.mutate(r1!.url, "admin.tenants.create", { slug: "umbrella", name: "Umbrella", vni: 6100 });
    const request = { name: "umbrella-1", image: "debian-12", vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "umbrella", network: { vlan: 30, vni: 6100 } };
    const placement = await waitFor(() => admin.query<{ tenant: string }>(r2!.url, "instances.placement", request), { timeoutMs: 5_000, what: "umbrella known on r2" });
    expect(placement.tenant).toBe("umbrella");
  });

  it("two creates at once through two replicas cannot both take the tenant's last slot (advisory lock)", async () => {
    const [r1, r2] = cluster.replicas;
    const usage = (await admin.query<{ usage: { instances: number } }>(cluster.url, "tenants.quota", { tenant: "acme" })).usage;
    await admin.mutate(cluster.url, "tenants.setQuota", { tenant: "acme", quota: { instances: usage.instances + 1, vcpus: null, memoryMiB: null, diskGiB: null } });
    const request = (name: string) => ({ name, image: "debian-12", vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "acme", network: { vlan: 10, vni: 5001 } });
    const results = await Promise.allSettled([admin.mutate(r1!.url, "instances.create", request("acme-rep1")), admin.mutate(r2!.url, "instances.create", request("acme-rep2"))]);
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as TrpcError] : []));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(refused.map((e) => [e.code, e.reason])).toEqual([["PRECONDITION_FAILED", `over acme's quota: needs 1 instance, 0 of ${usage.instances + 1} left`]]);
    await admin.mutate(cluster.url, "tenants.setQuota", { tenant: "acme", quota: { instances: null, vcpus: null, memoryMiB: null, diskGiB: null } });
  });

  it("a migration sent to A for a host B owns runs on B; B is killed mid-migration; A adopts it and it ends once", async () => {
    // The VM's host decides who runs it; the other replica is the one the request goes to.
    const vm = "acme-web1";
    const source = (await admin.query<{ instance: { host: string } }>(cluster.url, "instances.get", { name: vm })).instance.host;
    const destination = source === "kvm1" ? "kvm2" : "kvm1";
    const bId = await waitFor(() => owner(source), { timeoutMs: 20_000, what: `an owner for ${source}` });
    const b = cluster.replica(bId);
    const a = cluster.replicas.find((r) => r.id !== bId)!;

    const started = await admin.mutate<Op>(a.url, "instances.migrate", { instance: vm, destination, options: { bandwidthMiBps: 100 } });
    expect(started.state).toBe("running");
    expect(started.host).toBe(source);
    expect((await row(started.id))?.replica).toBe(bId);
    // B follows it: its progress reaches A through the bus.
    await waitFor(async () => (await admin.query<Op & { progress: unknown }>(a.url, "operations.get", { id: started.id })).progress !== null, { timeoutMs: 15_000, what: "migration progress on A" });

    const killedAt = Date.now();
    await b.kill();
    const reOwned = await waitFor(async () => ((await owner(source)) === a.id ? Date.now() : null), { timeoutMs: 15_000, what: `${source} re-owned by ${a.id}` });
    console.log(`re-own after SIGKILL: ${reOwned - killedAt} ms (${source}: ${bId} -> ${a.id})`);
    expect(reOwned - killedAt).toBeLessThan(10_000);
    await waitFor(async () => (await row(started.id))?.replica === a.id, { timeoutMs: 10_000, what: "the operation's row adopted by A" });

    // Through HAProxy (only A is left): the operation ends, once, as succeeded.
    const done = await waitFor(
      async () => {
        const op = await admin.query<Op>(cluster.url, "operations.get", { id: started.id });
        return op.state === "running" || op.state === "pending" ? null : op;
      },
      { timeoutMs: 60_000, what: "the migration to end" },
    );
    expect(done).toMatchObject({ state: "succeeded", error: null });
    const after = await admin.query<{ instance: { host: string } }>(cluster.url, "instances.get", { name: vm });
    expect(after.instance.host).toBe(destination);
    // Not run twice: one migrate operation for the VM, and its row settled by A.
    // The final row is written just after the in-memory operation settles (ThrottledOperationWriter): wait for it.
    const migrations = async () => (await db.query(`select id, state, replica from operations where kind = 'migrate' and target_name = $1`, [vm])).rows;
    await waitFor(async () => ((await migrations()).every((r) => r.state !== "running" && r.state !== "pending") ? true : null), { timeoutMs: 5_000, what: "the migration's row settled" });
    expect(await migrations()).toEqual([{ id: started.id, state: "succeeded", replica: a.id }]);
  }, 150_000);
});
