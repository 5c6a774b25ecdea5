import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { ensureClientKey, generateScenario, startLab, writeFleetConfig, type Lab, type Scenario } from "@nimbus/lab";
import { createTestTarget, type TestTarget } from "@nimbus/db/testing";
import { CpuBudget } from "./cpu-budget.js";
import { startHaproxy, type Haproxy } from "./haproxy.js";
import { ReplicaProcess } from "./replica.js";
import { freePort, waitFor } from "./wait.js";

/**
 * The multi-process harness (issue 16): a throwaway PostgreSQL database (a new database on the
 * server DATABASE_URL names: run under `sh packages/db/scripts/with-postgres.sh`), one standalone
 * embedded lab (in this process, so a test can look at it from the hosts' side), N `apps/server`
 * processes in replica mode on loopback ports, and a real HAProxy in front of them.
 *
 *   const cluster = await startCluster({ replicas: 2 });
 *   cluster.url                 // through HAProxy
 *   cluster.replicas[0].url     // straight to replica r1
 *   await cluster.replicas[1].kill();    // SIGKILL
 *   cluster.replicas[1].start(); await cluster.replicas[1].ready();
 *   await cluster.stop();
 */
export interface ClusterOptions {
  replicas: number;
  /** Default: the default scenario (the embedded lab's). */
  scenario?: Scenario;
  /** A generated lab instead of the default scenario. */
  generated?: { hosts: number; vmsPerHost: number };
  labSpeed?: number;
  /** Serve the built web app (Playwright); API only by default. */
  web?: boolean;
  /** Extra environment for every replica. */
  env?: Record<string, string>;
  /** Extra environment for one replica (F's partition test routes one replica's DATABASE_URL through a proxy). */
  replicaEnv?: (id: string, ctx: { databaseUrl: string }) => Record<string, string>;
  /** Wait until every replica sees every host online (default true). */
  waitOnline?: boolean;
  /** Each replica in its own CPU budget of this many cores (a cgroup; needs root): as if each ran on its own machine. */
  cpusPerReplica?: number;
}

export interface Cluster {
  /** HAProxy's address: what a browser uses. */
  url: string;
  replicas: ReplicaProcess[];
  replica(id: string): ReplicaProcess;
  lab: Lab;
  databaseUrl: string;
  adminPassword: string;
  clusterSecret: string;
  haproxy: Haproxy;
  /**
   * When the replicas were spawned: this process's CPU seconds then (the lab runs here) and the
   * database's, per process (`databaseCpu()`), so a benchmark can charge each its share of a connect.
   */
  spawnedAt: { at: number; labCpu: number; databaseCpu: Map<number, number> };
  /** CPU seconds (user + system) per process of the PostgreSQL server (postmaster and backends; Linux /proc). */
  databaseCpu(): Promise<Map<number, number>>;
  /** A query on the cluster's database (one connection, opened on first use), e.g. who owns which lease. */
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export const HARNESS_ADMIN_PASSWORD = "cluster-harness-admin-pw";

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (!process.env.DATABASE_URL) throw new Error("the cluster harness needs PostgreSQL: run under sh packages/db/scripts/with-postgres.sh (DATABASE_URL)");
  const dir = mkdtempSync(join(tmpdir(), "nimbus-cluster-"));
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch(() => undefined);
  };
  try {
    const target: TestTarget = await createTestTarget();
    cleanups.push(() => target.remove());
    const databaseUrl = (target.options as { url: string }).url;

    const labDir = join(dir, "lab");
    const key = ensureClientKey(labDir);
    const scenario = opts.scenario ?? (opts.generated ? generateScenario(opts.generated) : undefined);
    const lab = await startLab({ scenario, dataDir: labDir, clientPublicKeys: [key.publicKey], speed: opts.labSpeed ?? 10 });
    cleanups.push(() => lab.stop());
    const fleetPath = writeFleetConfig(lab, key.privateKeyPath);

    const proxyPort = await freePort();
    const url = `http://127.0.0.1:${proxyPort}`;
    const clusterSecret = randomBytes(32).toString("hex");
    const replicas: ReplicaProcess[] = [];
    for (let i = 1; i <= opts.replicas; i++) {
      const id = `r${i}`;
      const port = await freePort();
      const cpuBudget = opts.cpusPerReplica === undefined ? undefined : CpuBudget.create(`nimbus-replica-${process.pid}-${id}`, opts.cpusPerReplica);
      if (cpuBudget) cleanups.push(async () => cpuBudget.remove());
      replicas.push(
        new ReplicaProcess({
          id,
          port,
          dataDir: join(dir, id),
          cpuBudget,
          env: {
            NODE_ENV: "production",
            NIMBUS_NO_WEB: opts.web ? "0" : "1",
            NIMBUS_PORT: String(port),
            NIMBUS_BIND: "127.0.0.1",
            NIMBUS_DATA_DIR: join(dir, id),
            NIMBUS_CONFIG: fleetPath,
            DATABASE_URL: databaseUrl,
            NIMBUS_REPLICA_ID: id,
            NIMBUS_CLUSTER_SECRET: clusterSecret,
            NIMBUS_INTERNAL_URL: `http://127.0.0.1:${port}`,
            // No NIMBUS_AUTH_SECRET: the replicas' session key is derived from the cluster secret they share
            // (the README's minimal configuration), so every test that signs in through one replica and asks another checks it.
            NIMBUS_ADMIN_PASSWORD: HARNESS_ADMIN_PASSWORD,
            NIMBUS_PUBLIC_URL: url,
            NIMBUS_TRUSTED_PROXIES: "127.0.0.1",
            NIMBUS_LOG_LEVEL: "warn",
            NIMBUS_SIGNIN_REQUESTS_PER_MINUTE: "1000",
            ...opts.env,
            ...opts.replicaEnv?.(id, { databaseUrl }),
          },
        }),
      );
    }
    cleanups.push(() => Promise.all(replicas.map((r) => r.kill())));
    const postmaster = await postmasterPid(databaseUrl);
    const databaseCpu = async () => processTreeCpu(postmaster);
    const own = process.cpuUsage();
    const spawnedAt = { at: Date.now(), labCpu: (own.user + own.system) / 1e6, databaseCpu: await databaseCpu() };
    for (const r of replicas) r.start();
    await Promise.all(replicas.map((r) => r.ready({ online: opts.waitOnline ?? true, timeoutMs: 120_000 })));
    const haproxy = await startHaproxy({ dir, port: proxyPort, backends: replicas.map((r) => ({ id: r.id, port: r.port })) });
    cleanups.push(() => haproxy.stop());
    // Every backend up in HAProxy's view before the first request goes through it (a replica still
    // connecting its hosts may answer 503 for a while: not waited for when the caller times that).
    if (opts.waitOnline ?? true) await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, { timeoutMs: 30_000, what: "HAProxy forwarding" });
    let client: Promise<pg.Client> | null = null;
    cleanups.push(async () => (await client)?.end());
    const query = async <R extends Record<string, unknown>>(text: string, values?: unknown[]) => {
      client ??= (async () => {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        return c;
      })();
      return (await (await client).query<R>(text, values)).rows;
    };
    return {
      url,
      query,
      replicas,
      replica: (id) => {
        const r = replicas.find((x) => x.id === id);
        if (!r) throw new Error(`no replica ${id}`);
        return r;
      },
      lab,
      databaseUrl,
      adminPassword: HARNESS_ADMIN_PASSWORD,
      clusterSecret,
      haproxy,
      spawnedAt,
      databaseCpu,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The PostgreSQL server's own process id (from postmaster.pid in its data directory), or null when unreadable. */
async function postmasterPid(url: string): Promise<number | null> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    const { rows } = await c.query<{ data_directory: string }>(`select current_setting('data_directory') as data_directory`);
    return Number(readFileSync(join(rows[0]!.data_directory, "postmaster.pid"), "utf8").split("\n")[0]) || null;
  } catch {
    return null;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** CPU seconds per process of `pid` and its children (one level: PostgreSQL's backends). */
function processTreeCpu(pid: number | null): Map<number, number> {
  const out = new Map<number, number>();
  if (!pid) return out;
  const cpu = (p: number) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      out.set(p, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // gone meanwhile
    }
  };
  cpu(pid);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    // no /proc: nothing to report
  }
  for (const c of children) cpu(Number(c));
  return out;
}
