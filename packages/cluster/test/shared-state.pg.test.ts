import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADOPT_SQL, SERVER_SIDE_KINDS, SWEEP_SQL } from "../src/adoption.js";
import { REPLICA_TIMING } from "../src/replicas.js";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { ApiClient, type TrpcError } from "./harness/client.js";
import { waitFor } from "./harness/wait.js";

/**
 * Two server processes on one PostgreSQL: what one replica writes and the others cache (alert
 * rules, channels, silences, acknowledgements, load balancer specs) is read on the other within a
 * second; a maintenance flag set through the replica that does not own the host is answered by
 * the owner; alerts are evaluated and notified by the leader alone (a real webhook on loopback
 * counts the notifications), and after the leader is SIGKILLed the new one carries on without a
 * second notification for what was already firing.
 */
let cluster: Cluster;
let admin: ApiClient;
let hook: Server;
let hookUrl: string;
const received: { event: string; subject: string }[] = [];

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error("these tests need a PostgreSQL: DATABASE_URL (packages/db/scripts/with-postgres.sh)");
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const n = JSON.parse(body) as { event: string; alert: { id: string } };
      received.push({ event: n.event, subject: n.alert.id.split("|")[1]! });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  cluster = await startCluster({ replicas: 2 });
  admin = await ApiClient.signIn(cluster.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, cluster.url);
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
  await new Promise((r) => hook?.close(r));
});

const leader = async () => (await cluster.query<{ owner: string }>(`select owner from host_leases where host = '@leader' and expires_at > now()`))[0]?.owner ?? null;
const ownerOf = async (host: string) => (await cluster.query<{ owner: string }>(`select owner from host_leases where host = $1 and expires_at > now()`, [host]))[0]?.owner ?? null;
/** How long until `check` holds on the other replica (polled every 10 ms). */
async function within<T>(check: () => Promise<T | null | false | undefined>, what: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(check, { timeoutMs: 5_000, what, everyMs: 10 });
  return Date.now() - t0;
}
const count = (event: string, subject: string) => received.filter((n) => n.event === event && n.subject === subject).length;

type Rule = { id: string; forSeconds: number; channels: string[] };
type AlertList = { firing: { id: string; ack: { by: string } | null }[] };

describe("cached state and once-per-cluster work across replicas", () => {
  it("a lease taken over takes agent jobs, never a server-side run of a replica still alive; the sweep takes those of dead replicas only", async () => {
    // r1 and r2 are alive (heartbeats in cluster_replicas); "r-gone" has no heartbeat. Rows on a
    // host no replica watches, in a transaction rolled back.
    const rows: [string, string, string | null][] = [
      ["t-migrate", "migrate", "r2"],
      ["t-add-worker", "swarm-add-worker", "r2"],
      ["t-lb", "lb-apply", "r-gone"],
      ["t-evac", "maintenance", null],
      ["t-remove-mine", "swarm-remove-worker", "r1"],
    ];
    const run = async (sql: string) => {
      await cluster.query("begin");
      try {
        for (const [id, kind, replica] of rows)
          await cluster.query(
            `insert into operations (id, kind, state, target_type, target_name, host, requested_by, summary, replica, created_at, updated_at) values ($1, $2, 'running', 'host', 'x', 'sql-test-host', 'test', 'test', $3, now(), now())`,
            [id, kind, replica],
          );
        return (await cluster.query<{ id: string }>(sql, ["r1", ["sql-test-host"], [...SERVER_SIDE_KINDS], REPLICA_TIMING.aliveMs])).map((r) => r.id).sort();
      } finally {
        await cluster.query("rollback");
      }
    };
    expect(await run(ADOPT_SQL)).toEqual(["t-evac", "t-lb", "t-migrate", "t-remove-mine"]);
    expect(await run(SWEEP_SQL)).toEqual(["t-evac", "t-lb"]);
  });

  it("an alert rule, a channel, a silence and a scaling policy written through A are read on B within a second", async () => {
    const [a, b] = cluster.replicas;
    await admin.mutate(a!.url, "alerts.createChannel", { id: "ops-hook", name: "Ops", enabled: true, target: { kind: "webhook", config: { url: hookUrl } } });
    const channelMs = await within(async () => (await admin.query<{ id: string }[]>(b!.url, "alerts.channels")).some((c) => c.id === "ops-hook"), "the channel on B");
    await admin.mutate(a!.url, "alerts.updateRule", { id: "datastore-80", patch: { forSeconds: 123 } });
    const ruleMs = await within(async () => (await admin.query<Rule[]>(b!.url, "alerts.rules")).find((r) => r.id === "datastore-80")?.forSeconds === 123, "the rule on B");
    const silence = await admin.mutate<{ id: string }>(a!.url, "alerts.silence", { match: { checks: "storage:*" }, minutes: 30, comment: "replica test" });
    const silenceMs = await within(async () => (await admin.query<{ id: string }[]>(b!.url, "alerts.silences")).some((s) => s.id === silence.id), "the silence on B");
    await admin.mutate(a!.url, "alerts.endSilence", { id: silence.id });
    const endMs = await within(async () => !(await admin.query<{ id: string }[]>(b!.url, "alerts.silences")).some((s) => s.id === silence.id), "the silence ended on B");
    await admin.mutate(a!.url, "swarmNodes.setPolicy", { service: "web", enabled: false, minReplicas: 1, maxReplicas: 4 });
    const policyMs = await within(async () => (await admin.query<{ policies: { policy: { service: string; maxReplicas: number } }[] }>(b!.url, "swarmNodes.autoscale")).policies.some((p) => p.policy.service === "web" && p.policy.maxReplicas === 4), "the scaling policy on B");
    console.log(`on B after: channel ${channelMs} ms, rule ${ruleMs} ms, silence ${silenceMs} ms, end ${endMs} ms, scaling policy ${policyMs} ms`);
    for (const ms of [channelMs, ruleMs, silenceMs, endMs, policyMs]) expect(ms).toBeLessThan(1_000);
  }, 30_000);

  it("a load balancer created through A is listed on B within a second, and its applied state follows", async () => {
    const [a, b] = cluster.replicas;
    const shop = { name: "shop", edgeHost: "manager", bind: { address: "0.0.0.0", port: 80 }, mode: "http", target: { kind: "service", service: "web", port: null }, check: { interMs: 1000, timeoutMs: 500, rise: 2, fall: 2, httpPath: "/", expectStatus: 200 } };
    // The edge host's HAProxy as A sees it (right after start its lb section may not have arrived yet).
    await waitFor(async () => (await admin.query<{ edgeHosts: string[] }>(a!.url, "loadBalancers.options")).edgeHosts.includes("manager"), { timeoutMs: 20_000, what: "manager's HAProxy known on A" });
    await admin.mutate(a!.url, "loadBalancers.create", shop);
    const ms = await within(async () => (await admin.query<{ spec: { name: string } }[]>(b!.url, "loadBalancers.list")).some((l) => l.spec.name === "shop"), "shop on B");
    console.log(`load balancer on B after ${ms} ms`);
    expect(ms).toBeLessThan(1_000);
    await waitFor(async () => (await admin.query<{ status: string }>(b!.url, "loadBalancers.get", { name: "shop" })).status === "applied", { timeoutMs: 20_000, what: "shop applied, as B sees it" });
  }, 40_000);

  it("an lb-apply recorded by one replica holds the load balancer on every replica (same refusal as on one server, an update saves nothing); two applies at once never run together", async () => {
    const [a, b] = cluster.replicas;
    type Row = { id: string; state: string; created_at: Date; finished_at: Date | null };
    const unfinished = async () => (await cluster.query<{ n: string }>(`select count(*) as n from operations where kind = 'lb-apply' and target_name = 'shop' and state in ('pending', 'running')`))[0]!.n === "0";
    await waitFor(unfinished, { timeoutMs: 20_000, what: "shop's earlier applies ended" });
    // A run in progress on the other replica (r2, alive: neither swept nor adopted), as its row says.
    await cluster.query(`insert into operations (id, kind, state, target_type, target_name, host, requested_by, summary, replica, created_at, updated_at) values ('t-lb-busy', 'lb-apply', 'running', 'load-balancer', 'shop', 'manager', 'test', 'test', $1, now(), now())`, [b!.id]);
    try {
      const refusal = (p: Promise<unknown>) => p.then(() => "started", (e: TrpcError) => `${e.code}: ${e.reason}`);
      expect(await refusal(admin.mutate(a!.url, "loadBalancers.reapply", { name: "shop" }))).toBe("CONFLICT: load balancer shop is being applied already");
      expect(await refusal(admin.mutate(b!.url, "loadBalancers.reapply", { name: "shop" }))).toBe("CONFLICT: load balancer shop is being applied already");
      const spec = (await admin.query<{ spec: Record<string, unknown> & { check: Record<string, unknown> } }>(a!.url, "loadBalancers.get", { name: "shop" })).spec;
      expect(await refusal(admin.mutate(a!.url, "loadBalancers.update", { ...spec, check: { ...spec.check, rise: 3 } }))).toBe("CONFLICT: load balancer shop is being applied; try again when that ends");
      expect((await cluster.query<{ spec: { check: { rise: number } } }>(`select spec from load_balancers where name = 'shop'`))[0]!.spec.check.rise).toBe(2);
    } finally {
      await cluster.query(`delete from operations where id = 't-lb-busy'`);
    }
    // Sent through A and B at once: one runs, or (the first ended before the second was checked) one after the other; never together.
    const tries = await Promise.allSettled([a!, b!].map((r) => admin.mutate<{ id: string }>(r.url, "loadBalancers.reapply", { name: "shop" })));
    const started = tries.flatMap((t) => (t.status === "fulfilled" ? [t.value.id] : []));
    for (const t of tries) if (t.status === "rejected") expect((t.reason as TrpcError).reason).toBe("load balancer shop is being applied already");
    expect(started.length).toBeGreaterThan(0);
    await waitFor(unfinished, { timeoutMs: 20_000, what: "the applies ended" });
    const rows = (await cluster.query<Row>(`select id, state, created_at, finished_at from operations where id = any($1::text[]) order by created_at`, [started])).map((r) => ({ ...r, created: +new Date(r.created_at), finished: +new Date(r.finished_at!) }));
    expect(rows.map((r) => r.state)).toEqual(started.map(() => "succeeded"));
    if (rows.length === 2) expect(rows[1]!.created).toBeGreaterThanOrEqual(rows[0]!.finished);
  }, 60_000);

  it("the leader's autoscaler suggestion is listed through both replicas; accepted through the other one, the leader adds the worker", async () => {
    type View = { suggestions: { service: string }[]; decisions: { kind: string; operationId: string | null; reason: string }[] };
    const lead = cluster.replica(await waitFor(leader, { timeoutMs: 10_000, what: "a leader" }));
    const other = cluster.replicas.find((r) => r.id !== lead.id)!;
    cluster.lab.faults.fillSwarmNodes("all");
    try {
      await admin.mutate(other.url, "swarmNodes.setPolicy", { service: "web", enabled: true, minReplicas: 6, maxReplicas: 8 });
      for (const r of [lead, other])
        await waitFor(async () => (await admin.query<View>(r.url, "swarmNodes.autoscale")).suggestions.some((x) => x.service === "web"), { timeoutMs: 30_000, what: `web's suggestion listed on ${r.id}` });
      const { operationId } = await admin.mutate<{ operationId: string }>(other.url, "swarmNodes.acceptSuggestion", { service: "web" });
      // Carried out by the leader (which made it): its suggestion is gone and its decisions say who accepted it, on both replicas.
      for (const r of [lead, other])
        await waitFor(
          async () => {
            const v = await admin.query<View>(r.url, "swarmNodes.autoscale");
            return !v.suggestions.length && v.decisions[0]?.kind === "add-worker" && v.decisions[0].operationId === operationId && /suggestion accepted by/.test(v.decisions[0].reason);
          },
          { timeoutMs: 5_000, what: `the accepted suggestion as ${r.id} shows it` },
        );
      const ended = await waitFor(async () => (await cluster.query<{ state: string; kind: string }>(`select state, kind from operations where id = $1 and state not in ('pending', 'running')`, [operationId]))[0], { timeoutMs: 60_000, what: "the worker added" });
      expect(ended).toEqual({ state: "succeeded", kind: "swarm-add-worker" });
    } finally {
      cluster.lab.faults.roomOnSwarmNodes("all");
      await admin.mutate(cluster.url, "swarmNodes.deletePolicy", { service: "web" }).catch(() => undefined);
    }
  }, 120_000);

  it("a maintenance flag set through the replica that does not own the host is the owner's answer", async () => {
    const host = "kvm2";
    const owner = await waitFor(() => ownerOf(host), { timeoutMs: 10_000, what: `an owner for ${host}` });
    const other = cluster.replicas.find((r) => r.id !== owner)!;
    const answer = await admin.mutate<{ maintenance: boolean }>(other.url, "hosts.setMaintenance", { name: host, on: true });
    expect(answer.maintenance).toBe(true);
    // Set by the owner before the call was answered (not sent off and forgotten).
    expect((await admin.query<{ host: { maintenance: boolean } }>(cluster.replica(owner).url, "hosts.get", { name: host })).host.maintenance).toBe(true);
    expect((await admin.mutate<{ flag: boolean }>(other.url, "maintenance.exit", { host })).flag).toBe(false);
    expect((await admin.query<{ host: { maintenance: boolean } }>(cluster.replica(owner).url, "hosts.get", { name: host })).host.maintenance).toBe(false);
  }, 30_000);

  it("one notification per firing with two replicas; the leader SIGKILLed, the new one carries on without a duplicate", async () => {
    await admin.mutate(cluster.url, "alerts.updateRule", { id: "host-down", patch: { channels: ["ops-hook"] } });
    // A host back up is seen at its next reconnect attempt: the backoff doubles to 30 s (less jitter)
    // while it is down, so one down this long may wait up to 30 s before the evaluation that resolves it.
    const backUpMs = 60_000;
    const first = await waitFor(leader, { timeoutMs: 10_000, what: "a leader" });
    const survivor = cluster.replicas.find((r) => r.id !== first)!;
    // The rule's channel is known on both (each would have sent, before: one notification per replica).
    await waitFor(async () => (await admin.query<Rule[]>(survivor.url, "alerts.rules")).find((r) => r.id === "host-down")?.channels.length === 1, { timeoutMs: 5_000, what: "the rule on the survivor" });

    // With both replicas up: a check acknowledged, then recovered. Every replica sees the recovery;
    // one clears the acknowledgement and writes the timeline's "unack" (before: one per replica).
    cluster.lab.faults.stopHost("worker2");
    await waitFor(() => count("firing", "host:worker2") > 0, { timeoutMs: 30_000, what: "worker2's first host-down notification" });
    // Through the follower, once its own monitor sees the check failing too.
    await waitFor(() => admin.mutate(survivor.url, "health.acknowledge", { id: "host:worker2", note: "rebooting" }), { timeoutMs: 5_000, what: "worker2's check acknowledged" });
    cluster.lab.faults.startHost("worker2");
    await waitFor(() => count("resolved", "host:worker2") > 0, { timeoutMs: backUpMs, what: "worker2 resolved" });
    const unacks = () => cluster.query<{ n: string }>(`select count(*) as n from history_events where kind = 'unack' and subject = 'host:worker2'`).then((r) => Number(r[0]!.n));
    await waitFor(async () => (await unacks()) > 0, { timeoutMs: 5_000, what: "worker2's acknowledgement cleared" });
    // Both replicas have seen it ok (their health lists show it unacknowledged), and one event was written.
    for (const r of cluster.replicas)
      await waitFor(async () => (await admin.query<{ id: string; state: string; ack: unknown }[]>(r.url, "health.list")).some((c) => c.id === "host:worker2" && c.state === "ok" && c.ack === null), { timeoutMs: 5_000, what: `worker2 ok on ${r.id}` });
    expect(await unacks()).toBe(1);

    cluster.lab.faults.stopHost("worker1");
    await waitFor(() => count("firing", "host:worker1") > 0, { timeoutMs: 30_000, what: "worker1's host-down notification" });
    // Both replicas list it (the other one reloads it from the bus); either may be asked to acknowledge it.
    await waitFor(async () => (await admin.query<AlertList>(survivor.url, "alerts.list")).firing.some((x) => x.id === "host-down|host:worker1"), { timeoutMs: 5_000, what: "the alert on the survivor" });
    await admin.mutate(survivor.url, "alerts.acknowledge", { id: "host-down|host:worker1", note: "on it" });
    await waitFor(async () => (await admin.query<AlertList>(cluster.replica(first).url, "alerts.list")).firing.find((x) => x.id === "host-down|host:worker1")?.ack?.by, { timeoutMs: 5_000, what: "the acknowledgement on the leader" });
    // The health check's acknowledgement (the alert's subject) too: the leader's health page shows who is on it.
    const checkAckMs = await within(async () => (await admin.query<{ id: string; ack: { by: string } | null }[]>(cluster.replica(first).url, "health.list")).find((c) => c.id === "host:worker1")?.ack?.by, "the check's acknowledgement on the leader");
    expect(checkAckMs).toBeLessThan(1_000);

    await cluster.replica(first).kill();
    await waitFor(async () => (await leader()) === survivor.id, { timeoutMs: 15_000, what: `${survivor.id} leading` });
    // worker1 is down as the survivor sees it (re-owned and refused, not connecting), then a second host goes:
    // the survivor's evaluation that fires it also sees worker1 still down.
    await waitFor(async () => (await admin.query<{ host: { connection: { state: string } } }>(survivor.url, "hosts.get", { name: "worker1" })).host.connection.state === "unreachable", { timeoutMs: 20_000, what: "worker1 unreachable on the survivor" });
    cluster.lab.faults.stopHost("worker2");
    await waitFor(() => count("firing", "host:worker2") > 1, { timeoutMs: 30_000, what: "worker2's host-down notification from the new leader" });
    cluster.lab.faults.startHost("worker1");
    await waitFor(() => count("resolved", "host:worker1") > 0, { timeoutMs: backUpMs, what: "worker1 resolved by the new leader" });
    cluster.lab.faults.startHost("worker2");
    await waitFor(() => count("resolved", "host:worker2") > 1, { timeoutMs: backUpMs, what: "worker2 resolved again" });

    expect([count("firing", "host:worker1"), count("resolved", "host:worker1"), count("firing", "host:worker2"), count("resolved", "host:worker2")]).toEqual([1, 1, 2, 2]);
    // One row per firing, the acknowledgement kept across the hand-over.
    const rows = await cluster.query<{ key: string; ack_by: string | null }>(`select key, ack_by from alerts where key like 'host-down|host:worker%' order by key`);
    expect(rows.map((r) => r.key)).toEqual(["host-down|host:worker1", "host-down|host:worker2", "host-down|host:worker2"]);
    expect(rows[0]!.ack_by).not.toBeNull();
  }, 240_000);
});
