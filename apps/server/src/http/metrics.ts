import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { isFinal, storageServersOverview, type HostRecord, type Operation } from "@nimbus/domain";
import type { FleetEvent } from "@nimbus/fleet";

/** What /metrics reads of the running server. */
export interface MetricsSource {
  fleet: { hosts(): readonly HostRecord[]; subscribe(l: (e: FleetEvent) => void): () => void };
  live: { subscriberCount(): number; lagObserver: ((ms: number) => void) | null };
  operations: { running(): readonly Operation[]; subscribe(l: (op: Operation) => void): () => void };
  /** Round trip of a trivial query, in seconds. */
  dbLatency(): Promise<number>;
  alerts?: { stats(): { firing: number; silences: number } };
}

/**
 * Prometheus metrics of the server and of the fleet as hosts pushed it. Fleet series are per
 * host (a few gauges each: 2,000 hosts give ~12,000 series, which Prometheus handles) and per
 * datastore; never per VM or per container, whose number is unbounded (tens of thousands, and
 * churning): VMs are counted per host instead.
 */
export function createMetrics(source: MetricsSource) {
  const registry = new Registry();
  // Process CPU, memory, GC and the event-loop delay (nodejs_eventloop_lag_* percentiles).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const registers = [registry];

  new Gauge({
    name: "nimbus_hosts",
    help: "Hosts by connection state",
    labelNames: ["state"],
    registers,
    collect() {
      this.reset();
      const by = new Map<string, number>();
      for (const h of source.fleet.hosts()) by.set(h.connection.state, (by.get(h.connection.state) ?? 0) + 1);
      for (const s of ["online", "connecting", "unreachable", "key-changed", "auth-failed", "protocol-mismatch", "agent-missing"]) this.set({ state: s }, by.get(s) ?? 0);
    },
  });

  const lag = new Histogram({
    name: "nimbus_live_event_lag_seconds",
    help: "From a host's change reaching the server to its projection being sent to browsers",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  source.live.lagObserver = (ms) => lag.observe(ms / 1000);

  new Gauge({ name: "nimbus_sse_subscribers", help: "Browser live streams open", registers, collect() { this.set(source.live.subscriberCount()); } });

  new Gauge({
    name: "nimbus_operations_running",
    help: "Operations not finished, by kind and state",
    labelNames: ["kind", "state"],
    registers,
    collect() {
      this.reset();
      for (const op of source.operations.running()) this.inc({ kind: op.kind, state: op.state });
    },
  });
  const finished = new Counter({ name: "nimbus_operations_finished_total", help: "Operations that reached a final state since the server started, by kind and state", labelNames: ["kind", "state"], registers });
  const counted = new Set<string>();
  const offOps = source.operations.subscribe((op) => {
    if (!isFinal(op.state) || counted.has(op.id)) return;
    counted.add(op.id);
    // Only duplicates of recent ones matter; keep the set small.
    if (counted.size > 10_000) counted.delete(counted.values().next().value!);
    finished.inc({ kind: op.kind, state: op.state });
  });

  const reconnects = new Counter({ name: "nimbus_ssh_reconnects_total", help: "Times a host came back online after its first connection", registers });
  const lastState = new Map<string, string>();
  const offFleet = source.fleet.subscribe((e) => {
    if (e.type !== "host" || !e.changed.includes("connection")) return;
    const was = lastState.get(e.host.name);
    const now = e.host.connection.state;
    lastState.set(e.host.name, now);
    if (now === "online" && was !== undefined && was !== "online") reconnects.inc();
  });

  new Gauge({
    name: "nimbus_db_latency_seconds",
    help: "Round trip of a trivial database query, measured at scrape",
    registers,
    async collect() {
      this.set(await source.dbLatency());
    },
  });

  new Gauge({ name: "nimbus_alerts_firing", help: "Alerts firing now", registers, collect() { this.set(source.alerts?.stats().firing ?? 0); } });

  // The fleet, from what hosts pushed (no host is asked anything at scrape).
  const perHost = (name: string, help: string, read: (h: HostRecord) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["host"],
      registers,
      collect() {
        this.reset();
        for (const h of source.fleet.hosts()) {
          if (h.connection.state !== "online") continue;
          const v = read(h);
          if (v !== null) this.set({ host: h.name }, v);
        }
      },
    });
  perHost("nimbus_host_cpu_percent", "Host CPU use, as the agent last reported it", (h) => h.inventory.node?.cpuUsagePct ?? null);
  perHost("nimbus_host_memory_used_bytes", "Host memory in use", (h) => (h.inventory.node ? h.inventory.node.memoryUsedMiB * 1024 * 1024 : null));
  perHost("nimbus_host_memory_total_bytes", "Host memory", (h) => (h.inventory.node ? h.inventory.node.memoryTotalMiB * 1024 * 1024 : null));
  perHost("nimbus_host_disk_used_bytes", "Host root disk in use", (h) => h.inventory.node?.diskUsedBytes ?? null);
  perHost("nimbus_host_disk_total_bytes", "Host root disk size", (h) => h.inventory.node?.diskTotalBytes ?? null);
  perHost("nimbus_host_vms_running", "Running VMs on the host (VMs are counted, not exported one by one)", (h) => (h.inventory.virt ? h.inventory.virt.domains.filter((d) => d.state === "running").length : null));
  new Gauge({
    name: "nimbus_datastore_used_bytes",
    help: "Datastore space in use, as its NFS server reports it",
    labelNames: ["datastore"],
    registers,
    collect() {
      this.reset();
      for (const d of storageServersOverview(source.fleet.hosts()).datastores) this.set({ datastore: d.path }, d.usedBytes);
    },
  });
  new Gauge({
    name: "nimbus_datastore_size_bytes",
    help: "Datastore size",
    labelNames: ["datastore"],
    registers,
    collect() {
      this.reset();
      for (const d of storageServersOverview(source.fleet.hosts()).datastores) this.set({ datastore: d.path }, d.totalBytes);
    },
  });

  return {
    registry,
    stop() {
      offOps();
      offFleet();
      source.live.lagObserver = null;
      registry.clear();
    },
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * GET /metrics behind `Authorization: Bearer <NIMBUS_METRICS_TOKEN>`. Without a configured token
 * the endpoint does not exist (404): metrics name every host, so they are never open by default.
 */
export function metricsHandler(token: string | undefined, registry: () => Registry | null) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (!token) return send(res, 404, "text/plain", "no such endpoint: set NIMBUS_METRICS_TOKEN to enable /metrics\n");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "GET only\n");
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    // Compared as digests: equal length, constant time, whatever was sent.
    if (!timingSafeEqual(digest(given), digest(token))) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="nimbus-metrics"');
      return send(res, 401, "text/plain", "bearer token required\n");
    }
    const reg = registry();
    if (!reg) return send(res, 503, "text/plain", "starting\n");
    send(res, 200, reg.contentType, await reg.metrics());
  };
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
}
