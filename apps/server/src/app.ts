import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pino, type Logger } from "pino";
import { HealthMonitor, LiveHub, MetricsRecorder, PgTenantLocks, RateWindow, TopologyService, findingChecks, shareHostTokens, type ApiDeps, type Context } from "@nimbus/api";
import { createAuth, resolveAuthSecret } from "@nimbus/auth";
import { DbKnownHosts, DbMaintenanceFlags, DbOperationStore, HealthAcks, HealthHistory, HealthHistoryWriter, HistoryEvents, LOOP_PACE, MetricStore, MetricWriter, Retention, TenantQuotas, Tenants, openDatabase } from "@nimbus/db";
import { Fleet, OperationManager, agentInstaller, persistMaintenanceFlags, type FleetView } from "@nimbus/fleet";
import { ConsoleRelay, clusterSqlPool, onLeader, shareCachedState, stampReplica, startCluster, startClusterOperations, type Cluster } from "@nimbus/cluster";
import { ActiveCheckPlanner, ConsoleChecks, LoadBalancerService, PgLbApplyGuard, consoleRelayHandlers, consoleService } from "@nimbus/api";
import { DbRateWindow, LoadBalancerStore, pingDatabase } from "@nimbus/db";
import { AlertService } from "@nimbus/api";
import { AlertStore } from "@nimbus/db";
import { Autoscaler } from "@nimbus/api";
import { ScalingPolicies } from "@nimbus/db";
import { createMetrics } from "./http/metrics.js";
import { replicaConfig, type ServerEnv } from "./env.js";
import { startingAnnouncement } from "./starting.js";
import { everyHostAnswered } from "./fleet-answered.js";
import { hostsSource } from "./hosts-source.js";
import { scheduleRetention } from "./retention.js";
import { seedTenants, tenantService } from "./tenants.js";

export interface App {
  deps: ApiDeps;
  live: LiveHub;
  health: HealthMonitor;
  topology: TopologyService;
  /** Alert rules, firing alerts and notifications (tests step it with `tick`). */
  alerts: AlertService;
  /** Prometheus registry behind /metrics. */
  metrics: ReturnType<typeof createMetrics>;
  /** Every host (replica mode: the hosts this replica owns live, the others as their owners publish them). */
  fleet: FleetView;
  /** Replica mode (NIMBUS_CLUSTER_SECRET + DATABASE_URL): leases, bus, internal calls; null otherwise. */
  cluster: Cluster | null;
  /** Metric samples and VIP holder changes from the inventory (tests step it). */
  recorder: MetricsRecorder;
  auth: ReturnType<typeof createAuth>;
  context(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<Context>;
  /** Created at this start; `password` only when generated (never one from the environment). */
  firstAdmin: { email: string; password: string | null } | null;
  describeHosts: string;
  startedAt: number;
  /** When the fleet began connecting (epoch ms), for the benchmark's "all hosts loaded" figure. */
  fleetStartedAt: number | null;
  /** CPU seconds (user + system) this process had used by then: its boot, apart from its connect (the benchmarks). */
  fleetStartedCpu: number | null;
  stop(): Promise<void>;
}

/**
 * Replica mode: the autoscaler decides on the leader only (one decision per cluster, not one per
 * replica). Every replica keeps its policies loaded for the API; the leader reloads them on taking
 * over and every 30 s, so an edit made through another replica applies within that.
 */
function leaderOnly(cluster: Cluster, autoscaler: { start(): Promise<void>; stop(): void }, logger: Logger): () => void {
  // One after the other: a start still loading must not set its timer after a stop.
  let chain = Promise.resolve();
  const reload = () => {
    chain = chain.then(async () => {
      autoscaler.stop();
      if (cluster.leases.isLeader()) await autoscaler.start().catch((err: unknown) => logger.warn({ err }, "autoscaler not restarted"));
    });
  };
  reload();
  const off = cluster.leases.subscribe((e) => {
    if (e.type === "leader") reload();
  });
  const timer = setInterval(() => cluster.leases.isLeader() && reload(), 30_000);
  timer.unref();
  return () => {
    off();
    clearInterval(timer);
  };
}

/**
 * Wires the backend: database, accounts, hosts (config file or embedded lab), the fleet and its
 * operations, health and the live hub. Everything a request needs hangs off the returned App.
 */
/** `trustedOrigins`: pages besides baseURL's that may sign in (the bound address's loopback names). */
/**
 * `onCluster`: called as soon as replica mode's cluster runs, before the rest is wired, so the other
 * replicas' calls (relayed agent requests for hosts this one has just taken) are served at once.
 */
export async function createApp(
  env: ServerEnv,
  baseURL: string,
  logger: Logger = pino({ level: env.NIMBUS_LOG_LEVEL }),
  trustedOrigins: readonly string[] = [],
  onCluster?: (cluster: Cluster) => void,
): Promise<App> {
  const startedAt = Date.now();
  // Replica mode: "starting" in the cluster's table until the leases start (main.ts said it first).
  const starting = replicaConfig(env);
  const announcement = starting ? startingAnnouncement(starting) : null;
  const database = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: join(env.NIMBUS_DATA_DIR, "db") });
  const cleanups: (() => Promise<void> | void)[] = [() => database.close(), () => announcement?.stop()];
  try {
    const { db } = database;
    const auth = createAuth({
      db,
      baseURL,
      // Replicas without NIMBUS_AUTH_SECRET share one derived from their cluster secret: sessions hold across them.
      secret: resolveAuthSecret({ fromEnv: env.NIMBUS_AUTH_SECRET, stateDir: env.NIMBUS_DATA_DIR, clusterSecret: starting?.secret }),
      trustedProxies: env.NIMBUS_TRUSTED_PROXIES,
      trustedOrigins: [...trustedOrigins],
      signInRequestsPerMinute: env.NIMBUS_SIGNIN_REQUESTS_PER_MINUTE,
      // Replicas count failed sign-ins (and better-auth's per-address requests) together, in the database.
      limitsIn: replicaConfig(env) ? "database" : "memory",
    });
    const firstAdmin = await auth.ensureFirstAdmin({ password: env.NIMBUS_ADMIN_PASSWORD });

    const source = await hostsSource({ configPath: env.NIMBUS_CONFIG, dataDir: env.NIMBUS_DATA_DIR, labSpeed: env.NIMBUS_LAB_SPEED, logger });
    cleanups.unshift(() => source.stop());
    const tenantsStore = new Tenants(db);
    await seedTenants(tenantsStore, source.tenants);
    // Replica mode: set once the bus runs (below); a tenant written here reloads the others' directories.
    let tenantsChanged: () => void = () => {};
    const tenants = await tenantService(tenantsStore, new TenantQuotas(db), { changed: () => tenantsChanged() });

    const maintenanceFlags = new DbMaintenanceFlags(db);
    const replica = replicaConfig(env);
    // Replica mode: this Fleet connects only the hosts whose lease this replica holds (the cluster adds them).
    const localFleet = new Fleet({
      hosts: replica ? [] : source.hosts,
      privateKey: source.privateKey,
      knownHosts: new DbKnownHosts(db),
      concurrency: env.NIMBUS_SSH_CONCURRENCY,
      maintenance: new Set(await maintenanceFlags.list()),
      logger: logger.child({ component: "fleet" }),
      // Only hosts whose config asks for an upload get one; the embedded lab's run their agent as is.
      ensureAgent: agentInstaller({ bundleDir: join(env.repoRoot, "packages/agent/dist"), logger: logger.child({ component: "agent-install" }) }),
    });
    cleanups.unshift(() => localFleet.stop());
    let cluster: Cluster | null = null;
    /** Replica mode: when the leases started adding hosts (the fleet's start, for /healthz). */
    let clusterStartedAt: number | null = null;
    let clusterStartedCpu: number | null = null;
    if (replica) {
      // A tenant's host tokens are the same on every replica (its page mixes their answers).
      shareHostTokens(replica.secret);
      // Flags of hosts taken over later are read then (another replica may have changed them); one read serves a burst.
      let flags: { at: number; list: Promise<string[]> } | null = null;
      const maintenanceOf = async (host: string) => {
        if (!flags || Date.now() - flags.at > 1_000) flags = { at: Date.now(), list: maintenanceFlags.list() };
        return (await flags.list).includes(host);
      };
      // ensure(): on the very first start the table came with the migrations just run.
      if (!(await announcement!.ensure())) logger.warn("replica not announced as starting: its first lease round takes whatever is free");
      // A cluster's very first start: replicas booting beside this one could not say "starting" before the tables existed.
      await announcement!.settleAfterMiss();
      await announcement!.stop();
      clusterStartedAt = Date.now();
      clusterStartedCpu = cpuSeconds();
      cluster = await startCluster({
        url: replica.databaseUrl,
        replicaId: replica.id,
        internalUrl: replica.internalUrl,
        secret: replica.secret,
        hosts: source.hosts,
        local: localFleet,
        maintenance: maintenanceOf,
        logger: logger.child({ component: "cluster", replica: replica.id }),
      });
      cleanups.unshift(() => cluster!.stop());
      onCluster?.(cluster);
      const bus = cluster.bus;
      tenantsChanged = () => void bus.publish("tenants", {}).catch((err: unknown) => logger.warn({ err }, "tenant change not announced to the other replicas"));
      const reloadTenants = () => void tenants.reload().catch((err: unknown) => logger.warn({ err }, "tenants not reloaded"));
      cleanups.unshift(bus.subscribe((m) => m.kind === "tenants" && reloadTenants()), bus.onResync(reloadTenants));
      logger.info({ replica: replica.id, internalUrl: replica.internalUrl, hosts: source.hosts.length }, "replica mode: sharing the hosts with the other replicas by lease");
    }
    const fleet: FleetView = cluster?.fleet ?? localFleet;
    // Written by the host's owner only (the change arrives there, relayed if need be).
    const maintenance = persistMaintenanceFlags(localFleet, maintenanceFlags, logger.child({ component: "maintenance" }));
    cleanups.unshift(() => maintenance.stop());
    // Replica mode: rows name the replica running them; unfinished ones arrive by adoption with their hosts' leases.
    const operationStore = new DbOperationStore(db);
    const clusterSql = cluster && replica ? clusterSqlPool(replica.databaseUrl, logger) : null;
    if (clusterSql) cleanups.unshift(() => clusterSql.end());
    const operations = new OperationManager(fleet, clusterSql && replica ? stampReplica(operationStore, clusterSql, replica.id) : operationStore, {
      tenantVni: (slug) => tenants.directory().get(slug)?.vni ?? null,
      logger: logger.child({ component: "operations" }),
      adoptOnly: cluster !== null,
    });
    await operations.start();
    cleanups.unshift(() => operations.stop());
    // Replica mode: operations are sent to their host's owner, adopted from a dead replica, and seen cluster-wide.
    const clusterOps =
      cluster && clusterSql && replica
        ? await startClusterOperations({ replicaId: replica.id, local: operations, fleet, leases: cluster.leases, rpc: cluster.rpc, bus: cluster.bus, store: operationStore, sql: clusterSql, logger })
        : null;
    if (clusterOps) cleanups.unshift(() => clusterOps.stop());
    const ops = clusterOps?.operations ?? operations;

    const topology = new TopologyService(fleet, tenants);
    topology.start();
    cleanups.unshift(() => topology.stop());
    // Batched: at start every check of every host reports at once (10,000+ at fleet size).
    const history = new HealthHistoryWriter(new HealthHistory(db), (err) => logger.warn({ err }, "health history not recorded"));
    cleanups.unshift(() => history.flush());
    // The timeline's own events (acks given and taken back, VIP holder changes), in order; metric samples in batches.
    const historyEvents = new HistoryEvents(db);
    let eventWrites = Promise.resolve();
    const recordEvents = (events: Parameters<HistoryEvents["append"]>[0]) => {
      eventWrites = eventWrites.then(() => historyEvents.append(events)).catch((err: unknown) => logger.warn({ err }, "history event not recorded"));
    };
    const metricStore = new MetricStore(db);
    // The newest samples (up to 100 s) stay in this process until written (charts read them through
    // the writer); a replica writes each minute, so charts on the other replicas lag by at most that.
    const metricWriter = new MetricWriter(metricStore, (err) => logger.warn({ err }, "metric samples not recorded"), { rowSamples: replica ? 6 : undefined });
    cleanups.unshift(() => eventWrites, () => metricWriter.flush());
    // Acknowledgements outlive a restart; written one after the other, in the order they happen.
    const acks = new HealthAcks(db);
    let ackWrites = Promise.resolve();
    // Replica mode: told once an acknowledgement is stored (the others reload theirs).
    const acksStored = new Set<(checkId: string) => void>();
    cleanups.unshift(() => ackWrites);
    // The console's own dependencies, probed by the server (rise/fall as the agents' checks).
    const consoleChecks = new ConsoleChecks({ database: () => pingDatabase(db) });
    consoleChecks.start();
    cleanups.unshift(() => consoleChecks.stop());
    const health = new HealthMonitor(fleet, {
      extraChecks: () => [...findingChecks(topology.current().findings), ...consoleChecks.checks()],
      // Replica mode: every replica sees every transition; the leader alone writes them down.
      onTransition: (c) => {
        if (!cluster || cluster.leases.isLeader()) history.push({ checkId: c.id, state: c.state, at: c.since, message: c.message });
      },
      acks: {
        initial: await acks.all(),
        onChange: (id, ack, why) => {
          // Replica mode: every replica sees a check recover; the leader alone clears and records that.
          if (why === "check" && cluster && !cluster.leases.isLeader()) return;
          ackWrites = ackWrites
            .then(() => (ack ? acks.put(id, ack) : acks.remove(id)))
            .then(() => acksStored.forEach((l) => l(id)))
            .catch((err: unknown) => logger.warn({ err, check: id }, "acknowledgement not stored"));
          recordEvents([{ at: ack?.at ?? new Date().toISOString(), kind: ack ? "ack" : "unack", subject: id, actor: ack?.by ?? null, previous: null, detail: ack ? (ack.note ?? "") : "cleared (taken back, recovered or gone)" }]);
        },
      },
    });
    // A signed-out address leaves at most this many audit records a minute (its calls are refused either way).
    // Replica mode: counted in the database, so an address spreading its calls over the replicas meets one limit.
    const limits = { anonymousAudit: replica ? new DbRateWindow(db, 10, 60_000, "anon-audit", (err) => logger.warn({ err }, "anonymous audit limit not counted; record skipped")) : new RateWindow(10, 60_000) };
    const deps: ApiDeps = { fleet, operations: ops, tenants, auth, audit: auth.audit, lab: source.lab, limits, metrics: metricWriter, history: historyEvents };
    // Replica mode: the quota's per-tenant lock is a PostgreSQL advisory lock, creates recorded elsewhere reloaded under it.
    if (clusterOps && clusterSql) deps.tenantLocks = new PgTenantLocks(clusterSql, () => clusterOps.operations.refresh());
    // Metric samples and VIP holders from the in-memory inventory, once the fleet has answered (a
    // holder still connecting is not a failover).
    // Owned hosts only in replica mode: each sample is recorded once, by the host's owner.
    const recorder = new MetricsRecorder(localFleet, { record: (samples) => metricWriter.record(samples), vipEvents: recordEvents, vipHolders: await historyEvents.vipHolders() });
    cleanups.unshift(() => recorder.stop());
    // Replica mode: event ids carry the cluster cursor, so a browser that comes back through another replica is replayed.
    const live = new LiveHub(fleet, tenants, { maxStreamsPerUser: env.NIMBUS_LIVE_STREAMS_PER_USER, maxStreamsPerAddress: env.NIMBUS_LIVE_STREAMS_PER_ADDRESS, replay: cluster?.replay });
    live.attach({ operations: ops, health, topology });
    // Replica mode: console keystrokes and closes sent to a replica that does not hold the console go to the one that does.
    if (cluster && replica) {
      const c = cluster;
      const consoles = consoleService({ deps, live });
      consoles.relay = new ConsoleRelay({ rpc: c.rpc, replicaId: replica.id, peers: () => c.leases.directory.alive(), handlers: consoleRelayHandlers({ deps, live }) });
      // A host whose lease moves (rebalance, fence) keeps its consoles: opened again through the new owner.
      consoles.handoverMs = 20_000;
    }
    cleanups.unshift(() => live.detach(), () => health.stop());
    // Load balancers: specs in the database, lb-apply as server-side operations, states from the edge hosts' pushes.
    // Replica mode: a service's load balancers are re-applied by the leader alone when the swarm moves.
    const loadBalancers = new LoadBalancerService(fleet, new LoadBalancerStore(db), operations, {
      log: (msg, err) => logger.warn({ err }, msg),
      follows: cluster ? () => cluster!.leases.isLeader() : undefined,
      // Replica mode: "being applied" holds across replicas (the operations table under an advisory lock).
      guard: clusterSql ? new PgLbApplyGuard(clusterSql) : undefined,
    });
    await loadBalancers.start();
    live.attachLoadBalancers(loadBalancers);
    cleanups.unshift(() => loadBalancers.stop());
    deps.loadBalancers = loadBalancers;
    // Active checks: each agent gets its list from the inventory and pushes the states (checks section).
    // Owned hosts only in replica mode: each agent is configured by the replica connected to it.
    const checkPlanner = new ActiveCheckPlanner(localFleet, { log: (msg, err) => logger.warn({ err }, msg), httpHints: () => loadBalancers.httpCheckHints() });
    checkPlanner.start();
    cleanups.unshift(loadBalancers.onSpecsChanged(() => checkPlanner.refresh()));
    cleanups.unshift(() => checkPlanner.stop());
    // The swarm's autoscaler: decisions from the pushed inventory, carried out as operations, audited.
    const autoscaler = new Autoscaler({ fleet, operations: ops, audit: auth.audit, policies: new ScalingPolicies(db) });
    await autoscaler.start();
    cleanups.unshift(() => autoscaler.stop());
    if (cluster) cleanups.unshift(leaderOnly(cluster, autoscaler, logger));
    // Replica mode: suggestions are the leader's; one accepted through another replica goes there.
    if (cluster && replica) {
      const leases = cluster.leases;
      const c = { rpc: cluster.rpc, replicaId: replica.id, isLeader: () => leases.isLeader(), peers: () => leases.directory.alive() };
      autoscaler.leader = { isLeader: c.isLeader, accept: (service, by) => onLeader(c, "autoscale.accept", { service, by }, () => autoscaler.acceptHere(service, by)) };
    }
    deps.autoscale = autoscaler;
    // Alerts read the monitor's checks and the pushed numbers; what they keep is in the database.
    const alertStore = new AlertStore(db);
    // Nothing is decided before every host answered once (a restart must not resolve and re-fire what was firing).
    let fleetAnswered = false;
    // Replica mode: rules are evaluated and notifications sent by the leader alone (it reloads the alerts on taking over).
    const alerts = new AlertService(alertStore, health, fleet, {
      publicUrl: env.NIMBUS_PUBLIC_URL ?? baseURL,
      log: logger.child({ component: "alerts" }),
      ready: () => fleetAnswered,
      leader: cluster ? () => cluster!.leases.isLeader() : undefined,
    });
    await alerts.load();
    cleanups.unshift(() => alerts.stop());
    // Replica mode: what one replica writes (alert rules, channels, silences, acks; load balancer specs) the others reload.
    if (cluster)
      cleanups.unshift(
        shareCachedState({
          replicaId: replica!.id,
          bus: cluster.bus,
          alerts,
          loadBalancers,
          healthAcks: { reload: async () => health.replaceAcks(await acks.all()), onStoredChange: (l) => (acksStored.add(l), () => acksStored.delete(l)) },
          autoscale: autoscaler,
          autoscaleDecisions: autoscaler,
          leader: cluster.leases,
          rpc: cluster.rpc,
          logger: logger.child({ component: "shared-state" }),
        }),
      );
    deps.alerts = alerts;
    const metrics = createMetrics({ fleet, live, operations, dbLatency: () => alertStore.latency(), alerts });
    cleanups.unshift(() => metrics.stop());
    const retention = new Retention(db, {
      auditDays: env.NIMBUS_RETENTION_AUDIT_DAYS,
      healthDays: env.NIMBUS_RETENTION_HEALTH_DAYS,
      operationsDays: env.NIMBUS_RETENTION_OPERATIONS_DAYS,
    }, undefined, LOOP_PACE);
    cleanups.unshift(
      scheduleRetention(() => retention.prune(), {
        onDone: (pruned) => {
          if (pruned.audit + pruned.health + pruned.operations + pruned.metrics + pruned.events) logger.info({ pruned }, "removed history older than its retention");
        },
        onError: (err) => logger.warn({ err }, "history retention failed; next try in an hour"),
      }),
    );
    // What unauthenticated requests leave in the database (request counters, failed sign-ins) and
    // expired sessions, every minute: better-auth's own clean-up only runs when a counter is reused.
    cleanups.unshift(
      scheduleRetention(() => auth.pruneRows(), {
        everyMs: 60_000,
        onDone: (pruned) => {
          if (pruned.rateLimits + pruned.signInFailures + pruned.sessions + pruned.verifications) logger.debug({ pruned }, "removed expired sign-in limits and sessions");
        },
        onError: (err) => logger.warn({ err }, "pruning sign-in limits failed; next try in a minute"),
      }),
    );

    let stopped = false;
    const app: App = {
      deps,
      live,
      health,
      topology,
      alerts,
      metrics,
      fleet,
      cluster,
      recorder,
      auth,
      firstAdmin,
      describeHosts: source.describe,
      startedAt,
      fleetStartedAt: null,
      fleetStartedCpu: null,
      async context(req, res, requestId) {
        const { viewer, setCookie } = await auth.sessionFromHeaders(req.headers);
        // Sliding sessions: better-auth may hand back a refreshed cookie on any request.
        if (setCookie.length && !res.headersSent) res.appendHeader("Set-Cookie", setCookie);
        const headers = { ...req.headers };
        const revalidate = async () => {
          const now = await auth.viewerFromHeaders(headers);
          return !!viewer && now?.userId === viewer.userId && now.role === viewer.role && now.tenant === viewer.tenant;
        };
        return { deps, live, health, topology, viewer, revalidate, requestId, ip: auth.clientAddress(req) };
      },
      async stop() {
        stopped = true;
        for (const c of cleanups.splice(0)) {
          try {
            await c();
          } catch (err) {
            logger.warn({ err }, "shutdown step failed");
          }
        }
      },
    };
    // Hosts connect in the background: the console is usable while a big fleet comes up.
    app.fleetStartedAt = clusterStartedAt ?? Date.now();
    app.fleetStartedCpu = clusterStartedCpu ?? cpuSeconds();
    // Replica mode: the cluster started the local fleet; hosts arrive with their leases, the others'
    // records over the bus: metric samples and alert decisions wait until every host answered here too.
    void (cluster ? everyHostAnswered(fleet, { capMs: 30_000, stopped: () => stopped }) : localFleet.start()).then(() => {
      logger.info({ hosts: fleet.hosts().length, ms: Date.now() - app.fleetStartedAt! }, "every host answered its first connection attempt");
      if (!stopped) recorder.start();
      fleetAnswered = true;
    });
    health.start();
    alerts.start();
    // Replica mode: how long the rest of the wiring took after the fleet started (it runs beside the connect).
    if (cluster) logger.info({ ms: Date.now() - app.fleetStartedAt }, "server wired after the fleet started");
    return app;
  } catch (err) {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
    throw err;
  }
}

/** CPU seconds (user + system) this process has used. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
