import type { Fleet, HostConfig } from "@nimbus/fleet";
import pg from "pg";
import { pino, type Logger } from "pino";
import { ClusterBus } from "./bus.js";
import { ClusterFleet } from "./cluster-fleet.js";
import { InternalRpc } from "./internal-http.js";
import { LeaseManager, type LeaseTiming } from "./leases.js";
import { ReplayIndex } from "./replay.js";

export interface ClusterOptions {
  /** PostgreSQL (DATABASE_URL). */
  url: string;
  replicaId: string;
  /** How the other replicas reach this one (NIMBUS_INTERNAL_URL). */
  internalUrl: string;
  /** NIMBUS_CLUSTER_SECRET (>= 32 characters). */
  secret: string;
  hosts: readonly HostConfig[];
  /** The local fleet, created with no hosts: the leases add and remove them. */
  local: Fleet;
  maintenance?: (host: string) => Promise<boolean>;
  timing?: Partial<LeaseTiming>;
  logger?: Logger;
}

export interface Cluster {
  fleet: ClusterFleet;
  leases: LeaseManager;
  bus: ClusterBus;
  rpc: InternalRpc;
  /** The live channel's cluster cursor: what changed since a browser's last event, on any replica. */
  replay: ReplayIndex;
  /**
   * False while this replica can neither renew its leases nor hear the others (its copies of their
   * hosts go stale): /healthz then answers 503 so the load balancer sends browsers elsewhere.
   */
  healthy(): boolean;
  stop(): Promise<void>;
}

/**
 * Replica mode's moving parts, started in order: the bus (so no change is missed), the cluster
 * fleet (subscribed to the bus, local fleet and leases), then the leases (which add hosts).
 * The lease manager has a pool of its own, and renews in a thread of its own on one more
 * connection: if it cannot reach PostgreSQL, this replica lets go of its hosts whatever the rest
 * of the server is doing, and a main loop busy connecting hosts does not starve the renewals.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const logger = opts.logger ?? pino({ level: "silent" });
  const pool = new pg.Pool({ connectionString: opts.url, max: 2, connectionTimeoutMillis: 1_500, keepAlive: true });
  pool.on("error", (err) => logger.warn({ err }, "lease connection lost"));
  const rpc = new InternalRpc({ secret: opts.secret, logger: logger.child({ component: "cluster-rpc" }) });
  const bus = new ClusterBus({ url: opts.url, replicaId: opts.replicaId, logger: logger.child({ component: "cluster-bus" }) });
  const leases: LeaseManager = new LeaseManager({ db: pool, renewThread: { url: opts.url }, movable: (host): boolean => fleet.cheapToMove(host), self: { id: opts.replicaId, internalUrl: opts.internalUrl }, hosts: opts.hosts.map((h) => h.name), timing: opts.timing, logger: logger.child({ component: "leases" }) });
  const fleet = new ClusterFleet({ replicaId: opts.replicaId, hosts: opts.hosts, local: opts.local, leases, bus, rpc, maintenance: opts.maintenance, logger: logger.child({ component: "cluster-fleet" }) });
  // Before the bus starts: every message is recorded.
  const hostNames = new Set(opts.hosts.map((h) => h.name));
  const replay = new ReplayIndex(bus, { isHost: (h) => hostNames.has(h), publishing: () => fleet.publishing() });
  const stops: (() => Promise<void> | void)[] = [() => pool.end(), () => replay.stop()];
  try {
    await bus.start();
    stops.unshift(() => bus.stop());
    await fleet.start();
    stops.unshift(() => fleet.stop());
    await leases.start();
    stops.unshift(() => leases.stop());
  } catch (err) {
    for (const s of stops) await Promise.resolve(s()).catch(() => undefined);
    throw err;
  }
  return {
    fleet,
    leases,
    bus,
    rpc,
    replay,
    healthy: () => leases.healthy() && bus.isConnected(),
    async stop() {
      for (const s of stops.splice(0)) {
        try {
          await s();
        } catch (err) {
          logger.warn({ err }, "cluster shutdown step failed");
        }
      }
    },
  };
}
