import { existsSync } from "node:fs";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pino } from "pino";
import { loadEnv } from "./env.js";
import type { Cluster } from "@nimbus/cluster";
import { createApp, type App } from "./app.js";
import { createHttpServer } from "./http/server.js";
import { originPolicy, type OriginPolicy } from "./http/origin-policy.js";
import { startupBanner } from "./banner.js";
import { metricsHandler } from "./http/metrics.js";
import { memoryBreakdown } from "./process-memory.js";
import { preloadNextRuntimes, withoutSourceMaps } from "./source-maps.js";
import { StallWatch } from "./stalls.js";
import { profileConnect } from "./connect-profile.js";

/**
 * The one process a user runs: pages, API and live channel on one origin, the fleet behind it.
 */
const env = loadEnv();
const logger = pino({ level: env.NIMBUS_LOG_LEVEL });
const dev = env.NODE_ENV !== "production";
const webDir = join(env.repoRoot, "apps/web");

async function webHandler(): Promise<((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null> {
  if (env.NIMBUS_NO_WEB) return null;
  if (!dev && !existsSync(join(webDir, ".next", "BUILD_ID"))) {
    throw new Error("the web app is not built: run `pnpm build` (or `npm start`, which builds first)");
  }
  // Next's own source maps are not kept (source-maps.ts: ~11 MB of live heap).
  const handle = await withoutSourceMaps(async () => {
    const { default: next } = await import("next");
    // webpack, not Turbopack: Turbopack cannot yet map the workspace packages' ".js" import suffixes
    // to their ".ts" sources (vercel/next.js#82945); `next build --webpack` does the same.
    const web = next({ dev, dir: webDir, hostname: env.NIMBUS_BIND, port: env.NIMBUS_PORT, webpack: true });
    await web.prepare();
    if (!dev) preloadNextRuntimes(webDir);
    return web.getRequestHandler();
  });
  return (req, res) => handle(req, res);
}

// How long the event loop was blocked: a slow tick delays every push and request behind it.
// Reported for the last complete 10 s window on /healthz.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const ms = (ns: number) => Math.round(ns / 1e5) / 10;
let loopWindow = { p50: 0, p99: 0, max: 0 };
setInterval(() => {
  loopWindow = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  loopDelay.reset();
}, 10_000).unref();
const stallWatch = env.NIMBUS_STALL_WATCH ? new StallWatch() : null;
stallWatch?.start();

let app: App | null = null;
/** Replica mode: set as soon as the cluster runs (before `app`), for /internal/cluster/*. */
let cluster: Cluster | null = null;
let web: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;
let origins: OriginPolicy | null = null;
/** Wall ms and CPU seconds the web app took to load (Next.js prepare), once loaded. */
let webCost: { ms: number; cpu: number } | null = null;
const server = createHttpServer({
  logger,
  dev,
  https: env.NIMBUS_PUBLIC_URL?.startsWith("https:") ?? false,
  origins: () => origins,
  context: (req, res, id) => {
    if (!app) throw new Error("starting");
    return app.context(req, res, id);
  },
  auth: (req, res) => {
    if (!app) return unavailable(res);
    return app.auth.handler(req, res);
  },
  web: () => web,
  internal: () => (cluster ? (req, res) => cluster!.rpc.handle(req, res) : null),
  metrics: metricsHandler(env.NIMBUS_METRICS_TOKEN, () => app?.metrics.registry ?? null),
  limits: { maxBodyBytes: env.NIMBUS_MAX_BODY_BYTES, anonymousPerMinute: env.NIMBUS_ANON_REQUESTS_PER_MINUTE },
  ready: () => {
    // One walk of the fleet (the benchmark asks every 20 ms while 2,000 hosts connect).
    let online = 0;
    const hosts = app?.fleet.hosts() ?? [];
    for (const h of hosts) if (h.connection.state === "online") online++;
    return {
      // Replica mode: a replica cut off from PostgreSQL watches no host and hears no change: out of rotation.
      ready: app !== null && (app.cluster?.healthy() ?? true),
      hosts: hosts.length,
      online,
      fleetStartedAt: app?.fleetStartedAt ?? null,
      // CPU seconds used by the fleet's start and now (the benchmarks tell boot from connect with them).
      cpu: { atFleetStart: app?.fleetStartedCpu ?? null, now: cpuNow(), webLoad: webCost?.cpu ?? null },
      subscribers: app?.live.subscriberCount() ?? 0,
      eventLoopDelayMs: loopWindow,
      // Where the RSS is (MiB): the benchmark prints it at steady state and after the page queries.
      memory: memoryBreakdown(),
      ...(stallWatch ? { stalls: stallWatch.since() } : {}),
      // Replica mode: what the leases and the bus did (renew latency, fences, moves; the benchmark prints it).
      ...(app?.cluster ? { cluster: { leases: app.cluster.leases.stats(), fleet: app.cluster.fleet.stats(), bus: { ...app.cluster.bus.stats } } } : {}),
    };
  },
});

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1e3) / 1e3;
}

function unavailable(res: ServerResponse) {
  res.statusCode = 503;
  res.setHeader("Retry-After", "1");
  res.end("starting");
}

async function main() {
  const listening = new Promise<number>((r) =>
    server.listen(env.NIMBUS_PORT, env.NIMBUS_BIND, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : env.NIMBUS_PORT;
      origins = originPolicy({ publicUrl: env.NIMBUS_PUBLIC_URL, bind: env.NIMBUS_BIND, port });
      r(port);
    }),
  );
  const webStart = { at: Date.now(), cpu: cpuNow() };
  const [handler, port] = await Promise.all([webHandler(), listening]);
  web = handler;
  // What loading the web app cost (the benchmarks print it: a replica's boot before its fleet starts).
  webCost = { ms: Date.now() - webStart.at, cpu: Math.round((cpuNow() - webStart.cpu) * 1000) / 1000 };
  logger.info(webCost, "web app loaded");
  const url = env.NIMBUS_PUBLIC_URL ?? `http://${env.NIMBUS_BIND === "0.0.0.0" ? "127.0.0.1" : env.NIMBUS_BIND}:${port}`;
  // better-auth checks Origin on sign-in too: the same pages as the server's own check.
  app = await createApp(env, url, logger, origins?.origins, (c) => {
    cluster = c;
    // Diagnostics (the replicas benchmark): a CPU profile of this replica's connect phase.
    if (process.env.NIMBUS_CONNECT_PROFILE_DIR) profileConnect(process.env.NIMBUS_CONNECT_PROFILE_DIR, env.NIMBUS_REPLICA_ID ?? String(process.pid), () => app?.fleet.hosts() ?? null, logger);
  });

  console.log(startupBanner({ url, hosts: app.describeHosts, firstAdmin: app.firstAdmin }));
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  // A stuck host or database must not keep a stopped server alive.
  setTimeout(() => {
    logger.error("shutdown took longer than 10 s; exiting anyway");
    process.exit(1);
  }, 10_000).unref();
  server.close();
  server.closeAllConnections();
  await app?.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

main().catch(async (err) => {
  logger.fatal({ err }, "Nimbus could not start");
  console.error(`\nNimbus could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  await app?.stop();
  process.exit(1);
});
