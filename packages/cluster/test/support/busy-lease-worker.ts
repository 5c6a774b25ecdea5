/**
 * A lease manager in a thread of its own whose event loop is kept busy the way a fleet's SSH
 * handshakes keep a replica's busy: `busyMs` of synchronous work out of every `everyMs`. Reports
 * its lease events (and stats on request) to the parent; `go` starts it, `stop` hands the leases back.
 */
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";
import { LeaseManager } from "../../src/leases.js";

const { url, id, hosts, busyMs, everyMs } = workerData as { url: string; id: string; hosts: string[]; busyMs: number; everyMs: number };
const port = parentPort!;
const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 1_500 });
pool.on("error", () => undefined);
// As replica mode runs it (runtime.ts): the renewals in a thread of their own.
const m = new LeaseManager({ db: pool, renewThread: { url }, self: { id, internalUrl: `http://127.0.0.1/${id}` }, hosts });
m.subscribe((e) => port.postMessage({ event: e }));

// Busy: a burst of synchronous work every `everyMs`, as crypto for hundreds of handshakes would be.
const spin = setInterval(() => {
  const until = performance.now() + busyMs;
  while (performance.now() < until);
}, everyMs);

port.on("message", (msg: { type: string }) => {
  if (msg.type === "go") void m.start().then(() => port.postMessage({ started: true }));
  if (msg.type === "stats") port.postMessage({ stats: m.stats() });
  if (msg.type === "stop") {
    clearInterval(spin);
    void m
      .stop()
      .then(() => pool.end())
      .then(() => port.postMessage({ stopped: true }));
  }
});
// Loaded: the parent starts both managers at the same moment.
port.postMessage({ loaded: true });
