// The lease renewals in a thread of their own (LeaseManager's `renewThread`): a replica's main
// event loop busy with a fleet's SSH handshakes must not delay them past the fence. Plain
// JavaScript so the thread starts however the server runs (no TypeScript loader in workers).
//
// Shared with the main thread (SharedArrayBuffer): Float64 [0] when the last successful renew was
// SENT, [1] the main thread's last beat (both in process.hrtime milliseconds, one clock for all
// threads); Int32 at byte 16: [0] takes/releases in flight, [1] takes/releases started so far.
// It renews only while the main thread beats (a wedged process must not keep its hosts).
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";

const { url, id, internalUrl, leaseMs, everyMs, timeoutMs, maxMainStallMs, shared } = workerData;
const times = new Float64Array(shared, 0, 2);
const counts = new Int32Array(shared, 16, 2);
const now = () => Number(process.hrtime.bigint()) / 1e6;

const RENEW = `with beat as (
    insert into cluster_replicas (id, internal_url, started_at, heartbeat_at) values ($1, $2, now(), now())
    on conflict (id) do update set internal_url = excluded.internal_url, heartbeat_at = now()
  )
  update host_leases set expires_at = now() + $3 * interval '1 millisecond' where owner = $1 returning host, epoch`;

const newPool = () => {
  const p = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: Math.min(1_500, timeoutMs), keepAlive: true });
  p.on("error", () => undefined);
  return p;
};
let pool = newPool();
let stopped = false;
let timer = null;
let lastAttempt = now();

async function renew(limitMs) {
  if (now() - times[1] > maxMainStallMs) {
    parentPort.postMessage({ type: "failed", message: `the main thread has not run for ${Math.round(now() - times[1])} ms: not renewing` });
    return;
  }
  const sentAt = now();
  const quiet = Atomics.load(counts, 0) === 0;
  const seq = Atomics.load(counts, 1);
  let t;
  try {
    const { rows } = await Promise.race([
      pool.query(RENEW, [id, internalUrl, leaseMs]),
      new Promise((_, reject) => {
        t = setTimeout(() => reject(new Error(`lease renew took longer than ${limitMs} ms`)), limitMs);
      }),
    ]);
    if (stopped) return;
    if (sentAt > times[0]) times[0] = sentAt;
    parentPort.postMessage({ type: "renewed", sentAt, tookMs: now() - sentAt, rows, quiet, seq });
  } catch (err) {
    // A hung connection stays hung: the next try gets a new one.
    const old = pool;
    pool = newPool();
    old.end().catch(() => undefined);
    if (!stopped) parentPort.postMessage({ type: "failed", message: String(err?.message ?? err) });
  } finally {
    clearTimeout(t);
  }
}

function schedule() {
  if (stopped) return;
  timer = setTimeout(async () => {
    lastAttempt = now();
    await renew(timeoutMs);
    schedule();
  }, Math.max(0, lastAttempt + everyMs - now()));
}

parentPort.on("message", (m) => {
  if (m?.type !== "stop") return;
  stopped = true;
  clearTimeout(timer);
  pool.end().catch(() => undefined).finally(() => parentPort.postMessage({ type: "stopped" }));
});

// The first renew at once (start() waits for it, with the longer start-up limit), then fixed rate.
lastAttempt = now();
await renew(30_000);
schedule();
