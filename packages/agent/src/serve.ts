import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import {
  AgentErrorCode,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  RpcRequest,
  STATS_INTERVAL_MS,
  methodSpec,
  type Capability,
  type CreateProgress,
  type DeleteProgress,
  type MethodName,
  type MigrationProgress,
  type NotificationName,
  type StorageMoveProgress,
  type NotificationParams,
  type SectionName,
  type StackDeployProgress,
  type ImageBuildProgress,
  type ImageImportProgress,
  type StackRemoveProgress,
} from "@nimbus/domain";
import type { AgentDrivers, SectionSource, StatsDriver } from "./drivers.js";
import { AgentError, unsupported } from "./errors.js";
import { JobRegistry } from "./jobs.js";
import { ConsoleRegistry } from "./console.js";
import { SessionLogStreams } from "./swarm-logs.js";

export interface ServeOptions {
  input: Readable;
  output: Writable;
  drivers: AgentDrivers;
  agentVersion: string;
  /** Pass a shared registry to keep jobs across protocol sessions (the lab does). */
  jobs?: JobRegistry;
  bootId?: string;
  /** Pass a shared registry to cap console sessions per host across links (the daemon and the lab do). */
  consoles?: ConsoleRegistry;
  /** Coalesce bursts of changes in one section into one push. */
  pushDelayMs?: number;
  /** A running migration or disk move repeats its last progress when silent this long (default 1 s). */
  progressHeartbeatMs?: number;
  /** How often `stats.counters` is pushed (default STATS_INTERVAL_MS). */
  statsIntervalMs?: number;
}

type Handler = (params: any) => Promise<unknown>;

/**
 * One protocol session: reads JSON-RPC requests line by line, answers them, and pushes a section
 * whenever its driver reports a change (only after the server took a snapshot, so the server
 * never misses the state a push is relative to). Resolves when the input ends.
 */
export function serveAgent(opts: ServeOptions): Promise<void> {
  const { drivers, output } = opts;
  const jobs = opts.jobs ?? new JobRegistry();
  const consoles = opts.consoles ?? new ConsoleRegistry();
  /** This link: the owner of the console sessions it opens, which end with it. */
  const link = {};
  const bootId = opts.bootId ?? `${process.pid}-${Date.now().toString(36)}`;
  const pushDelay = opts.pushDelayMs ?? 10;
  const heartbeatMs = opts.progressHeartbeatMs ?? 1_000;
  const sources: Partial<Record<SectionName, SectionSource<unknown>>> = {
    node: drivers.node,
    virt: drivers.virt,
    net: drivers.net,
    swarm: drivers.swarm,
    storage: drivers.storage,
    checks: drivers.checks,
    lb: drivers.lb,
  };
  const capabilities = (["virt", "net", "swarm", "storage"] as const).filter((c) => drivers[c]) as Capability[];
  const lastSent = new Map<SectionName, string>();
  /** Log streams of this session: they end with it. */
  const logStreams = new SessionLogStreams();
  const pending = new Map<SectionName, NodeJS.Timeout>();
  const unwatch: (() => void)[] = [];
  let watching = false;
  let closed = false;

  const write = (msg: object) => {
    if (closed) return;
    output.write(JSON.stringify(msg) + "\n");
  };
  // An answer whose result is already JSON text goes out without serializing it again.
  const writeResult = (id: string | number, result: unknown) => {
    if (!(result instanceof JsonText)) return write({ jsonrpc: "2.0", id, result });
    if (!closed) output.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result.text}}\n`);
  };
  const notify = <N extends NotificationName>(method: N, params: NotificationParams<N>) => write({ jsonrpc: "2.0", method, params });

  const pushSection = (name: SectionName) => {
    if (pending.has(name)) return;
    pending.set(
      name,
      setTimeout(async () => {
        pending.delete(name);
        try {
          const data = await sources[name]!.snapshot();
          const json = JSON.stringify(data);
          if (json === lastSent.get(name)) return;
          lastSent.set(name, json);
          notify("inventory.section", { section: name, data });
        } catch (err) {
          notify("host.event", { at: new Date().toISOString(), level: "error", message: `${name}: ${errMessage(err)}` });
        }
      }, pushDelay),
    );
  };

  const startWatching = () => {
    if (watching) return;
    watching = true;
    for (const [name, src] of Object.entries(sources) as [SectionName, SectionSource<unknown> | undefined][]) {
      if (src) unwatch.push(src.watch(() => pushSection(name)));
    }
    unwatch.push(jobs.subscribe((job) => notify("job.update", { job })));
    if (drivers.stats) unwatch.push(pushStats(drivers.stats));
  };

  /**
   * Counters on a timer, not as a section: they change at every reading (see metrics/counters.ts).
   * A failed reading is said once (a host event) and retried at the next tick.
   */
  const pushStats = (stats: StatsDriver) => {
    let busy = false;
    let failing = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        notify("stats.counters", await stats.read());
        failing = false;
      } catch (err) {
        if (!failing) notify("host.event", { at: new Date().toISOString(), level: "warn", message: `stats: ${errMessage(err)}` });
        failing = true;
      } finally {
        busy = false;
      }
    }, opts.statsIntervalMs ?? STATS_INTERVAL_MS);
    timer.unref?.();
    return () => clearInterval(timer);
  };

  const snapshotDriver = () => (drivers.virt ?? throwErr(unsupported("virt"))).snapshots ?? throwErr(unsupported("virt snapshots"));
  const lbDriver = () => drivers.lb ?? throwErr(unsupported("lb (haproxy is not installed)"));
  const imageDriver = () => (drivers.storage ?? throwErr(unsupported("storage"))).imageRepository ?? throwErr(unsupported("storage images"));
  const swarmNodes = () => (drivers.swarm ?? throwErr(unsupported("swarm"))).nodes ?? throwErr(unsupported("swarm nodes"));

  const handlers: Record<MethodName, Handler> = {
    hello: async () => ({ protocol: PROTOCOL_VERSION, agentVersion: opts.agentVersion, hostname: drivers.hostname, capabilities, bootId }),
    ping: async () => ({}),
    "inventory.snapshot": async () => {
      // Each section is serialized once: the text is both what later pushes compare against and
      // the answer's body (an inventory is the biggest message a host sends, at every connect).
      const names = Object.keys(sources) as SectionName[];
      const texts = await Promise.all(
        names.map(async (name) => {
          const src = sources[name];
          if (!src) return "null";
          const text = JSON.stringify(await src.snapshot());
          lastSent.set(name, text);
          return text;
        }),
      );
      startWatching();
      return new JsonText(`{${names.map((name, i) => `${JSON.stringify(name)}:${texts[i]}`).join(",")}}`);
    },
    "job.list": async () => jobs.list(),
    "job.cancel": async ({ jobId }) => {
      jobs.cancel(jobId);
      return { ok: true };
    },
    "virt.migrate": async (p) => {
      const virt = drivers.virt ?? throwErr(unsupported("virt"));
      const job = jobs.start<MigrationProgress>(p.jobId, "migrate", async (ctx) => {
        const beat = heartbeat(ctx, heartbeatMs);
        try {
          const { downtimeMs } = await virt.migrate(p, beat.ctx);
          const last = beat.last();
          return last ? { ...last, phase: "done", percent: 100, memoryRemainingBytes: 0, downtimeMs } : undefined;
        } finally {
          beat.stop();
        }
      });
      return { jobId: job.id };
    },
    "virt.preflight": async (p) => {
      const virt = drivers.virt ?? throwErr(unsupported("virt"));
      if (!virt.preflight) throw unsupported("virt.preflight");
      return { host: drivers.hostname, checks: await virt.preflight(p) };
    },
    "virt.moveDisk": async (p) => {
      const virt = drivers.virt ?? throwErr(unsupported("virt"));
      const moveDisk = virt.moveDisk?.bind(virt) ?? throwErr(unsupported("virt.moveDisk"));
      const job = jobs.start<StorageMoveProgress>(p.jobId, "storage-move", async (ctx) => {
        const beat = heartbeat(ctx, heartbeatMs);
        try {
          await moveDisk(p, beat.ctx);
          const last = beat.last();
          return last ? { ...last, phase: "done", percent: 100, bytesCopied: last.bytesTotal } : undefined;
        } finally {
          beat.stop();
        }
      });
      return { jobId: job.id };
    },
    "virt.create": async (p) => {
      const virt = drivers.virt ?? throwErr(unsupported("virt"));
      const create = virt.create?.bind(virt) ?? throwErr(unsupported("virt.create"));
      const job = jobs.start<CreateProgress>(p.jobId, "create", (ctx) => create(p, ctx));
      return { jobId: job.id };
    },
    "virt.delete": async (p) => {
      const virt = drivers.virt ?? throwErr(unsupported("virt"));
      const remove = virt.delete?.bind(virt) ?? throwErr(unsupported("virt.delete"));
      const job = jobs.start<DeleteProgress>(p.jobId, "delete", (ctx) => remove(p, ctx));
      return { jobId: job.id };
    },
    "net.ensureTunnel": async (p) => {
      const net = drivers.net ?? throwErr(unsupported("net"));
      return (net.ensureTunnel?.bind(net) ?? throwErr(unsupported("net.ensureTunnel")))(p);
    },
    "net.releaseTunnel": async (p) => {
      const net = drivers.net ?? throwErr(unsupported("net"));
      return (net.releaseTunnel?.bind(net) ?? throwErr(unsupported("net.releaseTunnel")))(p);
    },
    "virt.power": async ({ domain, action }) => {
      await (drivers.virt ?? throwErr(unsupported("virt"))).power(domain, action);
      return { ok: true };
    },
    "virt.snapshotList": async ({ domain }) => snapshotDriver().list(domain),
    "virt.snapshotCreate": async (p) => snapshotDriver().create(p),
    "virt.snapshotRevert": async (p) => {
      await snapshotDriver().revert(p);
      return { ok: true };
    },
    "virt.snapshotDelete": async (p) => {
      await snapshotDriver().delete(p);
      return { ok: true };
    },
    "console.open": async (p) => ({
      session: await consoles.open(drivers.virt?.console, p, { output: (session, data) => notify("console.output", { session, data }), closed: (session, reason) => notify("console.closed", { session, reason }) }, link),
    }),
    "console.input": async ({ session, data }) => {
      consoles.input(session, data, link);
      return { ok: true };
    },
    "console.close": async ({ session }) => {
      consoles.close(session, link);
      return { ok: true };
    },
    "storage.imageImport": async (p) => {
      const images = imageDriver();
      const run = images.importJob?.bind(images) ?? throwErr(unsupported("storage.imageImport"));
      const job = jobs.start<ImageImportProgress>(p.jobId, "image-import", (ctx) => run(p, ctx));
      return { jobId: job.id };
    },
    "storage.imageBuild": async (p) => {
      const images = imageDriver();
      const build = images.build?.bind(images) ?? throwErr(unsupported("storage.imageBuild"));
      const job = jobs.start<ImageBuildProgress>(p.jobId, "image-build", (ctx) => build(p, ctx));
      return { jobId: job.id };
    },
    "storage.imageDelete": async (p) => {
      await imageDriver().delete(p);
      return { ok: true };
    },
    "swarm.scale": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const job = jobs.start(p.jobId, "scale", (ctx) => swarm.scale(p, ctx));
      return { jobId: job.id };
    },
    "swarm.availability": async ({ node, availability }) => {
      await (drivers.swarm ?? throwErr(unsupported("swarm"))).setAvailability(node, availability);
      return { ok: true };
    },
    "swarm.joinTokens": async () => (drivers.swarm ?? throwErr(unsupported("swarm"))).joinTokens(),
    "swarm.nodeUpdate": async (p) => {
      await swarmNodes().update(p);
      return { ok: true };
    },
    "swarm.rotateToken": async ({ role }) => {
      await swarmNodes().rotateToken(role);
      return { ok: true };
    },
    "swarm.leave": async () => {
      await swarmNodes().leave();
      return { ok: true };
    },
    "checks.configure": async ({ checks }) => {
      (drivers.checks ?? throwErr(unsupported("checks"))).configure(checks);
      return { ok: true };
    },
    "lb.write": async (p) => lbDriver().write(p),
    "lb.validate": async ({ name }) => lbDriver().validate(name),
    "lb.reload": async ({ name }) => lbDriver().reload(name),
    "lb.stat": async ({ name }) => lbDriver().stat(name),
    "lb.remove": async ({ name }) => {
      await lbDriver().remove(name);
      return { ok: true };
    },
    "swarm.stackDeploy": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const deploy = swarm.stackDeploy?.bind(swarm) ?? throwErr(unsupported("swarm.stackDeploy"));
      const job = jobs.start<StackDeployProgress>(p.jobId, "stack-deploy", (ctx) => deploy(p, ctx));
      return { jobId: job.id };
    },
    "swarm.stackRemove": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const remove = swarm.stackRemove?.bind(swarm) ?? throwErr(unsupported("swarm.stackRemove"));
      const job = jobs.start<StackRemoveProgress>(p.jobId, "stack-remove", (ctx) => remove(p, ctx));
      return { jobId: job.id };
    },
    "swarm.serviceUpdate": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const update = swarm.serviceUpdate?.bind(swarm) ?? throwErr(unsupported("swarm.serviceUpdate"));
      const job = jobs.start(p.jobId, "service-update", (ctx) => update(p, ctx));
      return { jobId: job.id };
    },
    "swarm.serviceRollback": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const rollback = swarm.serviceRollback?.bind(swarm) ?? throwErr(unsupported("swarm.serviceRollback"));
      const job = jobs.start(p.jobId, "service-rollback", (ctx) => rollback(p, ctx));
      return { jobId: job.id };
    },
    "swarm.logs": async (p) => {
      const swarm = drivers.swarm ?? throwErr(unsupported("swarm"));
      const logs = swarm.logs ?? throwErr(unsupported("swarm.logs"));
      logStreams.start(p, logs, (chunk) => notify("swarm.logLines", chunk));
      return { ok: true };
    },
    "swarm.logsStop": async ({ streamId }) => {
      logStreams.stop(streamId);
      return { ok: true };
    },
  };

  const handleLine = async (line: string) => {
    if (!line.trim()) return;
    if (line.length > MAX_MESSAGE_BYTES) return write(rpcError(null, AgentErrorCode.invalidRequest, "message too large"));
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return write(rpcError(null, AgentErrorCode.parse, "not JSON"));
    }
    const req = RpcRequest.safeParse(raw);
    if (!req.success) return write(rpcError(null, AgentErrorCode.invalidRequest, "not a JSON-RPC request"));
    const { id, method } = req.data;
    const spec = methodSpec(method);
    if (!spec) return write(rpcError(id, AgentErrorCode.methodNotFound, `unknown method ${JSON.stringify(method.slice(0, 64))}`));
    const params = spec.params.safeParse(req.data.params ?? {});
    if (!params.success) return write(rpcError(id, AgentErrorCode.invalidParams, params.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")));
    try {
      writeResult(id, await handlers[method as MethodName](params.data));
    } catch (err) {
      if (err instanceof AgentError) write(rpcError(id, err.code, err.message, err.data));
      else write(rpcError(id, AgentErrorCode.internal, errMessage(err)));
    }
  };

  return new Promise((resolve) => {
    const rl = createInterface({ input: opts.input, crlfDelay: Infinity });
    // A peer that vanished (a reset socket, a destroyed stdin) closes without an 'end'.
    opts.input.once("close", () => rl.close());
    // readline re-emits its input's 'error' (EPIPE when a push meets a relay that went away): with
    // no listener it was thrown and ended the daemon with every job (found in the real lab). The
    // owner of the input reports it; the 'close' that follows ends this session.
    rl.on("error", () => rl.close());
    rl.on("line", (line) => void handleLine(line));
    rl.on("close", () => {
      closed = true;
      consoles.closeOwner(link);
      logStreams.stopAll();
      for (const u of unwatch) u();
      for (const t of pending.values()) clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Progress at least once per `everyMs` while a job runs: a tool that goes quiet (libvirt before
 * its job exists, a slow sample) repeats the last report, so the UI can tell "slow" from "stuck".
 */
function heartbeat<P>(ctx: { report(p: P): void; signal: AbortSignal }, everyMs: number) {
  let last: P | undefined;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (last !== undefined) ctx.report(last);
      arm();
    }, everyMs);
  };
  arm();
  return {
    ctx: {
      signal: ctx.signal,
      report: (p: P) => {
        last = p;
        ctx.report(p);
        arm();
      },
    },
    last: () => last,
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** A result already serialized (see inventory.snapshot). */
class JsonText {
  constructor(readonly text: string) {}
}

function rpcError(id: string | number | null, code: number, message: string, data?: unknown) {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
function throwErr(e: Error): never {
  throw e;
}
