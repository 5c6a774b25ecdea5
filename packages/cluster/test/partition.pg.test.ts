import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { waitFor } from "./harness/wait.js";
import { TcpProxy } from "./support/tcp-proxy.js";

/**
 * A replica cut off from PostgreSQL (every connection of r2 goes through a proxy the test cuts:
 * it stalls, no reset) stops acting on its hosts, closing their SSH sessions, before its leases
 * can be taken: counted from the lab's side, no host ever has two sessions. Default timing.
 */
const enabled = !!process.env.DATABASE_URL;
let cluster: Cluster;
let db: pg.Pool;
let proxy: TcpProxy;

beforeAll(async () => {
  if (!enabled) return;
  const server = new URL(process.env.DATABASE_URL!);
  proxy = new TcpProxy(server.hostname, Number(server.port || 5432));
  await proxy.start();
  cluster = await startCluster({
    replicas: 2,
    generated: { hosts: 4, vmsPerHost: 1 },
    replicaEnv: (id, { databaseUrl }) => (id === "r2" ? { DATABASE_URL: proxy.url(databaseUrl) } : {}),
  });
  db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
}, 180_000);
afterAll(async () => {
  await db?.end();
  await cluster?.stop();
  await proxy?.stop();
});

const hostNames = () => cluster.lab.hosts.map((h) => h.name);
async function owners(): Promise<Map<string, string>> {
  const { rows } = await db.query<{ host: string; owner: string }>(`select host, owner from host_leases where owner is not null and expires_at > now()`);
  return new Map(rows.map((r) => [r.host, r.owner]));
}
const connections = () => new Map(hostNames().map((h) => [h, cluster.lab.sshConnections(h)]));

describe.runIf(enabled)("a replica partitioned from PostgreSQL", () => {
  it("lets go of its hosts before the lease can move: never two sessions to one host; back on the network, it rebalances", async () => {
    const settled = () =>
      waitFor(
        async () => {
          const o = await owners();
          return o.size === hostNames().length && [...connections().values()].every((n) => n === 1) && o;
        },
        { timeoutMs: 30_000, what: "every host owned and connected once", everyMs: 50 },
      );
    const before = await settled();
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
      const after = await settled();
      const reowned = performance.now() - t0;
      console.log(`r2 cut from PostgreSQL: closed its ${itsHosts.length} hosts' sessions after ${Math.round(letGo)} ms (fence 4 s after its last renew); r1 owned and connected them after ${Math.round(reowned)} ms`);
      expect([...after.values()].every((o) => o === "r1")).toBe(true);
      expect(letGo).toBeLessThan(6_000);
      expect(most).toBe(1);

      // Back: r2 renews nothing (its leases are gone), takes a share again from r1's hand-back.
      proxy.restore();
      const back = await waitFor(
        async () => {
          const o = await settled();
          const r2 = [...o.values()].filter((x) => x === "r2").length;
          return r2 > 0 && r2 <= Math.ceil(hostNames().length / 2) && o;
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
