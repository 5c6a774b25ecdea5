import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDeepStrictEqual } from "node:util";
import pg from "pg";
import type { HostRecord } from "@nimbus/domain";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { ApiClient } from "./harness/client.js";
import { waitFor } from "./harness/wait.js";
import { TcpProxy } from "./support/tcp-proxy.js";

/**
 * Three server processes in replica mode on one PostgreSQL, one embedded lab outside them (the
 * harness), default lease timing (2 s heartbeat, 6 s lease, 4 s fence). Seen from the hosts' side
 * (the lab counts connections per host) and from the API of each replica.
 */
const enabled = !!process.env.DATABASE_URL;
let cluster: Cluster;
let db: pg.Pool;
/** r2 reaches PostgreSQL through this proxy, so the last test can cut it off. */
let proxy: TcpProxy;
const clients = new Map<string, ApiClient>();

beforeAll(async () => {
  if (!enabled) throw new Error("these tests need a PostgreSQL: DATABASE_URL (packages/db/scripts/with-postgres.sh)");
  const server = new URL(process.env.DATABASE_URL!);
  proxy = new TcpProxy(server.hostname, Number(server.port || 5432));
  await proxy.start();
  cluster = await startCluster({
    replicas: 3,
    generated: { hosts: 6, vmsPerHost: 2 },
    replicaEnv: (id, { databaseUrl }): Record<string, string> => (id === "r2" ? { DATABASE_URL: proxy.url(databaseUrl) } : {}),
  });
  db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
  for (const r of cluster.replicas) clients.set(r.id, await ApiClient.signIn(r.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, r.url));
}, 180_000);
afterAll(async () => {
  await db?.end();
  await cluster?.stop();
  await proxy?.stop();
});

const ALL = ["r1", "r2", "r3"];

/** A serial console's SSE stream (instances.console): the kinds of its events as they arrive, and the guest's text. */
function consoleStream(base: string, cookie: string, instance: string) {
  const abort = new AbortController();
  const got: string[] = [];
  let text = "";
  const input = encodeURIComponent(JSON.stringify({ instance, cols: 80, rows: 24 }));
  const done = (async () => {
    const res = await fetch(`${base}/api/trpc/instances.console?input=${input}`, { headers: { cookie, accept: "text/event-stream" }, signal: abort.signal });
    if (!res.ok) throw new Error(`instances.console answered ${res.status}`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (let buf = ""; ; ) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buf += decoder.decode(chunk.value, { stream: true });
      for (let end; (end = buf.indexOf("\n\n")) >= 0; buf = buf.slice(end + 2)) {
        const data = /^data: ?(.*)$/m.exec(buf.slice(0, end))?.[1];
        const event = data ? (JSON.parse(data) as { kind: string; data?: string }) : null;
        if (event) got.push(event.kind);
        if (event?.kind === "output") text += Buffer.from(event.data!, "base64").toString();
        if (event?.kind === "closed") text += `[closed: ${(event as { reason?: string }).reason}]`;
      }
    }
  })().catch(() => undefined);
  return { got, text: () => text, close: () => (abort.abort(), done) };
}
const hostNames = () => cluster.lab.hosts.map((h) => h.name);

async function owners(): Promise<Map<string, string>> {
  const { rows } = await db.query<{ host: string; owner: string }>(`select host, owner from host_leases where owner is not null and expires_at > now() and host <> '@leader'`);
  return new Map(rows.map((r) => [r.host, r.owner]));
}

function hostOn(replica: string, host: string): Promise<{ host: HostRecord }> {
  return clients.get(replica)!.query(cluster.replica(replica).url, "hosts.get", { name: host });
}

/** The hypervisors among `hosts` that run instances (as r1 sees them). */
async function withInstances(hosts: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const h of hosts) {
    const { instances } = await clients.get("r1")!.query<{ instances: unknown[] }>(cluster.replica("r1").url, "hosts.get", { name: h });
    if (instances.length) out.push(h);
  }
  return out;
}

const connections = () => new Map(hostNames().map((h) => [h, cluster.lab.sshConnections(h)]));

/** An instance running on `host` and on no other host (so an agent call about it goes to that host). */
async function runningOn(host: string): Promise<string> {
  const counts = new Map<string, number>();
  for (const h of hostNames()) {
    const { host: rec } = await hostOn("r1", h);
    for (const d of rec.inventory.virt?.domains ?? []) if (d.state === "running") counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  }
  const { host: rec } = await hostOn("r1", host);
  const name = (rec.inventory.virt?.domains ?? []).find((d) => d.state === "running" && counts.get(d.name) === 1)?.name;
  if (!name) throw new Error(`no instance runs on ${host} alone`);
  return name;
}

/** Every host owned by one alive replica and connected exactly once, from the lab's side. */
async function settled(alive: string[]): Promise<Map<string, string>> {
  return waitFor(
    async () => {
      const o = await owners();
      if (o.size !== hostNames().length) return false;
      if (![...o.values()].every((r) => alive.includes(r))) return false;
      // Balanced: nobody over its share (rebalancing has finished moving hosts).
      const share = Math.ceil(hostNames().length / alive.length);
      if (alive.some((r) => [...o.values()].filter((x) => x === r).length > share)) return false;
      if (!hostNames().every((h) => cluster.lab.sshConnections(h) === 1)) return false;
      return o;
    },
    { timeoutMs: 30_000, what: "every host owned and connected once", everyMs: 50 },
  );
}

describe("several replicas sharing the hosts", () => {
  it("each replica holds SSH only to its own hosts, shows every host's inventory, relays agent calls to the owner", async () => {
    const o = await settled(ALL);
    const mine = (r: string) => [...o].filter(([, owner]) => owner === r).map(([h]) => h);
    // Shared out: ceil(11 / 2) = 6 at most each.
    expect(mine("r1").length).toBeGreaterThan(0);
    expect(mine("r2").length).toBeGreaterThan(0);
    expect(mine("r3").length).toBeGreaterThan(0);
    expect(Math.max(...ALL.map((r) => mine(r).length))).toBeLessThanOrEqual(Math.ceil(hostNames().length / 3));

    // (Which replica holds which session shows in the next test: killing r2 drops exactly its hosts' sessions.)
    // Every host, on every replica, online with its inventory, the same on both.
    for (const host of hostNames()) {
      // Counters change every few seconds: the two copies agree between two pushes.
      await waitFor(
        async () => {
          const [a, b, c] = await Promise.all([hostOn("r1", host), hostOn("r2", host), hostOn("r3", host)]);
          expect(c.host.connection.state, `${host} on r3`).toBe("online");
          expect(a.host.connection.state, `${host} on r1`).toBe("online");
          expect(b.host.connection.state, `${host} on r2`).toBe("online");
          expect(a.host.inventory.node).not.toBeNull();
          return isDeepStrictEqual(a.host.inventory, b.host.inventory) && isDeepStrictEqual(a.host.inventory, c.host.inventory);
        },
        { timeoutMs: 10_000, what: `${host}'s inventory the same on every replica`, everyMs: 20 },
      );
    }

    // A lab change on a host r2 owns reaches r1 (through PostgreSQL) shortly after r2 has it.
    const hypervisors = await withInstances(mine("r2"));
    expect(hypervisors.length).toBeGreaterThan(0);
    const target = hypervisors[0]!;
    const before = JSON.stringify((await hostOn("r1", target)).host.inventory.virt);
    // The guest pauses on the host (as if from its console): the host's agent pushes the change.
    const world = cluster.lab.world;
    const vm = [...world.hypervisor(target).domains.values()].find((d) => d.state === "running")!;
    const t0 = performance.now();
    vm.state = "paused";
    world.changed(target, "virt");
    const seen = async (r: string) => {
      await waitFor(async () => JSON.stringify((await hostOn(r, target)).host.inventory.virt) !== before, { timeoutMs: 10_000, what: `the change on ${r}`, everyMs: 5 });
      return performance.now() - t0;
    };
    const [onOwner, onOther] = await Promise.all([seen("r2"), seen("r1")]);
    console.log(`lab change on ${target} (owner r2): seen on the owner after ${Math.round(onOwner)} ms, on r1 after ${Math.round(onOther)} ms (replication ${Math.round(onOther - onOwner)} ms)`);
    // The goal is 100 ms change-to-browser; a loaded 2-core CI gets slack here, the figure is printed.
    expect(onOther - onOwner).toBeLessThan(500);
    vm.state = "running";
    world.changed(target, "virt");

    // An agent call made through r1 for a host r2 owns: relayed to r2 and answered.
    const vmHost = hypervisors.at(-1)!;
    const instance = await runningOn(vmHost);
    // (snapshotCreate asks the VM's host's agent; it answers once the host pushed the new snapshot.)
    const taken = await clients.get("r1")!.mutate<{ name: string }>(cluster.replica("r1").url, "instances.snapshotCreate", { instance, name: "through-r1" });
    expect(taken.name).toBe("through-r1");
    const listed = await clients.get("r2")!.query<{ snapshots: { name: string }[] }>(cluster.replica("r2").url, "instances.snapshots", { instance });
    expect(listed.snapshots.map((x) => x.name)).toContain("through-r1");
    // Still one SSH connection to that host: r1 did not open its own.
    expect(cluster.lab.sshConnections(vmHost)).toBe(1);
  });

  it("internal calls need the cluster secret and never a session", async () => {
    const r1 = cluster.replica("r1").url;
    const cookie = clients.get("r1")!.cookie;
    const body = JSON.stringify({ host: hostNames()[0], method: "virt.snapshotList", params: { domain: "x" } });
    const noAuth = await fetch(`${r1}/internal/cluster/fleet.request`, { method: "POST", headers: { "content-type": "application/json", cookie }, body });
    expect(noAuth.status).toBe(401);
    const wrong = await fetch(`${r1}/internal/cluster/fleet.request`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${"x".repeat(64)}` }, body });
    expect(wrong.status).toBe(401);
    const auth = { "content-type": "application/json", authorization: `Bearer ${cluster.clusterSecret}` };
    const unknown = await fetch(`${r1}/internal/cluster/no.such`, { method: "POST", headers: auth, body: "{}" });
    expect(unknown.status).toBe(404);
    const bad = await fetch(`${r1}/internal/cluster/fleet.request`, { method: "POST", headers: auth, body: JSON.stringify({ host: 5 }) });
    expect(bad.status).toBe(400);
    const huge = await fetch(`${r1}/internal/cluster/fleet.request`, { method: "POST", headers: auth, body: JSON.stringify({ host: "a", method: "b", params: "x".repeat(5 * 1024 * 1024) }) }).catch(() => null);
    expect(huge === null || huge.status === 413).toBe(true);
    // A host this replica does not own: refused as moved, never relayed onwards (no loops).
    const o = await owners();
    const notMine = [...o].find(([, owner]) => owner !== "r1")![0];
    const res = await fetch(`${r1}/internal/cluster/fleet.request`, { method: "POST", headers: auth, body: JSON.stringify({ host: notMine, method: "virt.snapshotList", params: { domain: "x" } }) });
    const answer = (await res.json()) as { ok: boolean; error: { code: string; details: { moved?: boolean } } };
    expect(answer.ok).toBe(false);
    expect(answer.error.details.moved).toBe(true);
  });

  it("SIGKILL one replica: the other re-owns its hosts within 10 s; restarted, the leases rebalance without flapping", async () => {
    const o = await settled(ALL);
    const itsHosts = [...o].filter(([, owner]) => owner === "r2").map(([h]) => h);
    const kvm = (await withInstances(itsHosts))[0];
    expect(kvm).toBeDefined();
    const instance = await runningOn(kvm!);
    // A serial console held by r2 (its output stream is there) on a host r1 owns: the agent session lives on r1's SSH link.
    const consoleHost = (await withInstances([...o].filter(([, owner]) => owner === "r1").map(([h]) => h)))[0]!;
    const consoleVm = await runningOn(consoleHost);
    const term = consoleStream(cluster.replica("r2").url, clients.get("r2")!.cookie, consoleVm);
    await waitFor(() => term.got.includes("connected"), { timeoutMs: 10_000, what: "the console connected through r2", everyMs: 20 });
    expect(cluster.lab.consoleSessions(consoleHost)).toBe(1);
    const t0 = performance.now();
    await cluster.replica("r2").kill();
    void term.close();
    // An agent call through r1 right after the kill: r2 does not answer; r1 waits for the lease to move (to r1 or r3) and is answered.
    const call = clients.get("r1")!.mutate(cluster.replica("r1").url, "instances.snapshotCreate", { instance, name: "at-the-kill" }).then(() => performance.now() - t0);
    // From the hosts' side: r2's sessions are gone with the process, and come back from r1.
    await waitFor(() => itsHosts.every((h) => cluster.lab.sshConnections(h) === 0) || itsHosts.some((h) => cluster.lab.sshConnections(h) === 1), { timeoutMs: 5_000, what: "r2's connections closed", everyMs: 10 });
    await settled(["r1", "r3"]);
    const reowned = performance.now() - t0;
    await waitFor(async () => {
      for (const h of itsHosts) if ((await hostOn("r1", h)).host.connection.state !== "online") return false;
      return true;
    }, { timeoutMs: 20_000, what: "r2's hosts online again on r1", everyMs: 20 });
    const online = performance.now() - t0;
    console.log(`SIGKILL r2 (${itsHosts.length} hosts): re-owned by r1 and r3 after ${Math.round(reowned)} ms, online again after ${Math.round(online)} ms`);
    expect(reowned).toBeLessThan(10_000);

    // r1 closed the console r2 held, once r2's heartbeat was gone (not when r1's SSH link to the host ends: it does not).
    await waitFor(() => cluster.lab.consoleSessions(consoleHost) === 0, { timeoutMs: 15_000, what: "the dead replica's console closed on the agent", everyMs: 50 });
    console.log(`the console SIGKILLed r2 held was closed by r1 after ${Math.round(performance.now() - t0)} ms`);

    // The call made during the take-over was answered (by the new owner, r1 itself or relayed to r3).
    const answeredAfter = await call;
    console.log(`an agent call made through r1 at the kill was answered after ${Math.round(answeredAfter)} ms`);

    // A console held by r1 on one of r2's former hosts: the restart's rebalance gives the host back to r2.
    const moving = consoleStream(cluster.replica("r1").url, clients.get("r1")!.cookie, instance);
    await waitFor(() => moving.got.includes("connected"), { timeoutMs: 10_000, what: "the console connected through r1", everyMs: 20 });
    const before = moving.got.length;

    // Restart: r2 gets a share back; then nothing moves for three rounds.
    cluster.replica("r2").start();
    await cluster.replica("r2").ready();
    const balanced = await waitFor(
      async () => {
        const now = await settled(ALL);
        const counts = ALL.map((r) => [...now.values()].filter((x) => x === r).length);
        return Math.max(...counts) <= Math.ceil(hostNames().length / 3) && Math.min(...counts) > 0 ? now : false;
      },
      { timeoutMs: 30_000, what: "leases rebalanced", everyMs: 100 },
    );
    const epochs = async () => (await db.query<{ sum: string }>(`select sum(epoch)::text as sum from host_leases where host <> '@leader'`)).rows[0]!.sum;
    const e0 = await epochs();
    const until = Date.now() + 6_500;
    await waitFor(() => Date.now() > until, { timeoutMs: 10_000, what: "three lease rounds", everyMs: 500 });
    expect(await epochs()).toBe(e0);
    expect(await owners()).toEqual(balanced);
    expect(hostNames().every((h) => cluster.lab.sshConnections(h) === 1)).toBe(true);

    // The console followed its host to r2: connecting, connected again, said so, and takes keystrokes; one agent session.
    expect(balanced.get(kvm!)).toBe("r2");
    await waitFor(() => moving.got.slice(before).includes("connecting") && moving.got.at(-1) !== "connecting" && moving.text().includes("[nimbus] reconnected"), { timeoutMs: 20_000, what: "the console reconnected through r2", everyMs: 20 });
    expect(moving.got.slice(before), moving.text().slice(-400)).not.toContain("closed");
    const shown = moving.text().length;
    await clients.get("r1")!.mutate(cluster.replica("r1").url, "instances.consoleInput", { instance, data: "\r" });
    await waitFor(() => /login: /.test(moving.text().slice(shown)), { timeoutMs: 10_000, what: "the login prompt after the reconnection", everyMs: 20 });
    expect(cluster.lab.consoleSessions(kvm!)).toBe(1);
    await moving.close();
  });

  it("a replica cut off from PostgreSQL lets go of its hosts before the lease can move: never two sessions to one host; back on the network, it rebalances", async () => {
    const before = await settled(ALL);
    const itsHosts = [...before].filter(([, o]) => o === "r2").map(([h]) => h);
    expect(itsHosts.length).toBeGreaterThan(0);

    // Watch the hosts' side the whole time.
    let most = 0;
    const sampler = setInterval(() => {
      for (const n of connections().values()) most = Math.max(most, n);
    }, 2);
    try {
      const t0 = performance.now();
      proxy.cut();
      await waitFor(() => itsHosts.every((h) => cluster.lab.sshConnections(h) === 0), { timeoutMs: 10_000, what: "r2 closing its sessions", everyMs: 5 });
      const letGo = performance.now() - t0;
      // Out of the load balancer's rotation while it cannot reach the database.
      await waitFor(async () => (await fetch(`${cluster.replica("r2").url}/healthz`)).status === 503, { timeoutMs: 5_000, what: "r2 reporting not ready", everyMs: 50 });
      const after = await settled(["r1", "r3"]);
      const reowned = performance.now() - t0;
      console.log(`r2 cut from PostgreSQL: closed its ${itsHosts.length} hosts' sessions after ${Math.round(letGo)} ms (fence 4 s after its last renew); r1 and r3 owned and connected them after ${Math.round(reowned)} ms`);
      expect([...after.values()].every((o) => o !== "r2")).toBe(true);
      expect(letGo).toBeLessThan(6_000);
      expect(most).toBe(1);

      // Back: r2 renews nothing (its leases are gone), takes a share again from r1's hand-back.
      proxy.restore();
      const back = await waitFor(
        async () => {
          const o = await settled(ALL);
          const r2 = [...o.values()].filter((x) => x === "r2").length;
          return r2 > 0 && r2 <= Math.ceil(hostNames().length / 3) && o;
        },
        { timeoutMs: 40_000, what: "r2 holding a share again", everyMs: 100 },
      );
      expect(back.size).toBe(hostNames().length);
      expect(most).toBe(1);
      // r2's view caught up through the bus resync: every host online there too.
      await cluster.replica("r2").ready({ online: true, timeoutMs: 20_000 });
    } finally {
      clearInterval(sampler);
    }
  });
});
