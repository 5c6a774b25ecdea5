import { AgentErrorCode, type MigrateParams, type MigrationProgress } from "@nimbus/domain";
import type { JobContext } from "../drivers.js";
import { AgentError, conflict } from "../errors.js";
import type { AgentConfig } from "./config.js";
import type { Log } from "./log.js";
import { failureOf, virshError } from "./parse/libvirt-errors.js";
import { parseDomjobinfo, parseDomstate, type JobInfo } from "./parse/virsh.js";
import type { Tool } from "./tool.js";
import { sleep } from "./util.js";
import { requireDomainUuid } from "./virt-ids.js";

interface MigrateDeps {
  host: string;
  virsh: Tool;
  cfg: AgentConfig["virt"];
  log: Log;
}

/**
 * The `virsh migrate` argument list for a request (pure, so it is tested without libvirt). `id`
 * is the domain's UUID (see virt-ids.ts); the name only when no UUID is known.
 */
export function migrateArgs(p: MigrateParams, allowUnsafe: boolean, id: string = p.domain): string[] {
  const args = ["migrate", "--live", "--persistent", "--undefinesource"];
  if (p.options.autoConverge) args.push("--auto-converge");
  // Post-copy only helps if libvirt switches to it by itself once pre-copy has made one pass.
  if (p.options.postCopy) args.push("--postcopy", "--postcopy-after-precopy");
  if (p.options.bandwidthMiBps !== null) args.push("--bandwidth", String(p.options.bandwidthMiBps));
  if (allowUnsafe) args.push("--unsafe");
  args.push("--", id, p.destination.uri);
  return args;
}

/**
 * Turns domjobinfo samples into monotonic progress: memory re-sent in later iterations raises
 * `iteration`, never lowers `percent`. Kept below 100 until virsh migrate has returned.
 */
export function nextProgress(prev: MigrationProgress, job: JobInfo): MigrationProgress {
  if (job.type !== "Unbounded" || job.totalBytes === 0) return prev;
  const done = ((job.totalBytes - job.remainingBytes) / job.totalBytes) * 100;
  const percent = Math.min(99, Math.max(prev.percent, Math.round(done * 10) / 10));
  return {
    kind: "migrate",
    phase: job.remainingBytes === 0 ? "switchover" : "copying",
    memoryTotalBytes: job.totalBytes,
    memoryProcessedBytes: job.processedBytes,
    memoryRemainingBytes: job.remainingBytes,
    bandwidthBytesPerSec: job.bandwidthBytesPerSec,
    dirtyRateBytesPerSec: job.dirtyRateBytesPerSec,
    iteration: Math.max(prev.iteration, job.iteration),
    expectedDowntimeMs: job.expectedDowntimeMs,
    percent,
    downtimeMs: null,
  };
}

export const initialProgress = (): MigrationProgress => ({
  kind: "migrate",
  phase: "preparing",
  memoryTotalBytes: 0,
  memoryProcessedBytes: 0,
  memoryRemainingBytes: 0,
  bandwidthBytesPerSec: 0,
  dirtyRateBytesPerSec: 0,
  iteration: 0,
  expectedDowntimeMs: null,
  percent: 0,
  downtimeMs: null,
});

/**
 * Live-migrates one domain with `virsh migrate`, sampling `virsh domjobinfo` while it runs (job
 * progress, not inventory polling). Cancel = `virsh domjobabort`: libvirt then rolls back and
 * the VM keeps running here. Resolves only when virsh reports success (the VM runs on the
 * destination); any failure rejects with the VM still on this host.
 */
export async function migrateDomain(d: MigrateDeps, p: MigrateParams, ctx: JobContext<MigrationProgress>): Promise<{ downtimeMs: number | null }> {
  const what = `domain ${p.domain} on ${d.host}`;
  const id = await requireDomainUuid(d.virsh, p.domain, what);
  const state = await d.virsh.run(["domstate", "--reason", "--", id]).then(parseDomstate, (e) => {
    throw virshError(e, what);
  });
  if (state.state !== "running" && state.state !== "paused") {
    throw conflict(`${what} is ${state.state}: only a running VM can be live-migrated`);
  }

  let progress = initialProgress();
  ctx.report(progress);
  let stopReason: "cancelled" | "timed out" | null = null;
  const domjobabort = () =>
    d.virsh.run(["domjobabort", "--", id], { timeoutMs: 15_000 }).then(
      () => undefined,
      (e) => d.log("warn", `domjobabort ${p.domain}: ${(e as Error).message}`),
    );
  const abortJob = (reason: "cancelled" | "timed out") => {
    if (stopReason) return;
    stopReason = reason;
    d.log("info", `migration of ${p.domain}: ${reason}, aborting the libvirt job`);
    void domjobabort();
  };
  const onAbort = () => abortJob("cancelled");
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const deadline = setTimeout(() => abortJob("timed out"), d.cfg.migrationTimeoutMs);

  let running = true;
  const migration = d.virsh
    .run(migrateArgs(p, d.cfg.allowUnsafeMigration, id), { timeoutMs: d.cfg.migrationTimeoutMs + 60_000, maxBytes: 1024 * 1024 })
    .finally(() => (running = false));

  const sampler = (async () => {
    let downtimeSet = p.options.maxDowntimeMs === null;
    while (running) {
      await sleep(d.cfg.progressIntervalMs);
      if (!running) continue;
      // A cancel that came before libvirt had started the job found nothing to abort: repeat it.
      if (stopReason) {
        await domjobabort();
        continue;
      }
      // A sample that fails or cannot be parsed is skipped; the next one comes half a second later.
      const job = await d.virsh
        .run(["domjobinfo", "--", id], { timeoutMs: 10_000 })
        .then(parseDomjobinfo)
        .catch(() => null);
      if (!job || !running) continue;
      // libvirt applies a max downtime to the migration job, so it is set once the job exists.
      if (!downtimeSet && job.type === "Unbounded") {
        downtimeSet = true;
        await d.virsh
          .run(["migrate-setmaxdowntime", "--", id, String(p.options.maxDowntimeMs)])
          .catch((e) => d.log("warn", `migrate-setmaxdowntime ${p.domain}: ${(e as Error).message}`));
      }
      const next = nextProgress(progress, job);
      if (next !== progress) ctx.report((progress = next));
    }
  })();

  try {
    await migration;
  } catch (e) {
    const err = e as AgentError;
    const failure = failureOf(err);
    const why = stopReason ? `was ${stopReason}` : `failed: ${failure.reason}`;
    const code = stopReason === "cancelled" ? AgentErrorCode.conflict : stopReason ? AgentErrorCode.toolFailed : failure.code;
    throw new AgentError(code, `migration of ${p.domain} from ${d.host} to ${p.destination.host} ${why}; the VM stays on ${d.host}`, {
      ...err.data,
      ...(failure.detail ? { libvirt: failure.detail } : {}),
      domain: p.domain,
      host: d.host,
    });
  } finally {
    clearTimeout(deadline);
    ctx.signal.removeEventListener("abort", onAbort);
    await sampler;
  }
  ctx.report({ ...progress, phase: "finishing", percent: 99, memoryRemainingBytes: 0 });
  return { downtimeMs: await completedDowntime(d, p, id) };
}

/**
 * The measured downtime. With --undefinesource the domain no longer exists here, so the
 * completed job's statistics are read on the destination, which keeps them for incoming jobs.
 */
async function completedDowntime(d: MigrateDeps, p: MigrateParams, id: string): Promise<number | null> {
  try {
    // A migrated domain keeps its UUID.
    const text = await d.virsh.run(["-c", p.destination.uri, "domjobinfo", "--completed", "--", id], { timeoutMs: 15_000 });
    return parseDomjobinfo(text).totalDowntimeMs;
  } catch (e) {
    d.log("info", `downtime of ${p.domain} not available from ${p.destination.host}: ${(e as Error).message}`);
    return null;
  }
}
