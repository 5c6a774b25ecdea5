import type { Job, JobProgress } from "@nimbus/domain";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "./errors.js";

type Listener = (job: Job) => void;

/**
 * Jobs the agent runs, by the id the server gave them. Outlives one protocol session when the
 * caller shares it (the lab keeps one per host, so a reconnecting server finds its jobs), and
 * keeps finished jobs for a while so the server can learn how they ended.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, { job: Job; abort: AbortController }>();
  private readonly listeners = new Set<Listener>();
  private static readonly KEEP_FINISHED = 200;

  list(): Job[] {
    return [...this.jobs.values()].map((j) => j.job);
  }

  /** Whether any job is still running (the agent daemon stays while one does). */
  hasRunning(): boolean {
    for (const { job } of this.jobs.values()) if (job.state === "running") return true;
    return false;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  start<P extends JobProgress>(
    id: string,
    kind: Job["kind"],
    work: (ctx: { report: (p: P) => void; signal: AbortSignal }) => Promise<P | void>,
  ): Job {
    if (this.jobs.get(id)?.job.state === "running") throw new AgentError(AgentErrorCode.conflict, `job ${id} is already running`);
    const abort = new AbortController();
    const job: Job = { id, kind, state: "running", progress: null, error: null, startedAt: new Date().toISOString(), finishedAt: null };
    this.jobs.set(id, { job, abort });
    this.prune();
    this.emit(job);
    const update = (patch: Partial<Job>) => {
      const entry = this.jobs.get(id);
      if (!entry || entry.job.state !== "running") return;
      entry.job = { ...entry.job, ...patch };
      this.emit(entry.job);
    };
    work({ report: (p) => update({ progress: p }), signal: abort.signal }).then(
      (final) => update({ state: "succeeded", progress: final ?? this.jobs.get(id)!.job.progress, finishedAt: new Date().toISOString() }),
      (err: unknown) =>
        update({
          state: abort.signal.aborted ? "cancelled" : "failed",
          error: err instanceof Error ? err.message : String(err),
          finishedAt: new Date().toISOString(),
        }),
    );
    return job;
  }

  cancel(id: string): void {
    const entry = this.jobs.get(id);
    if (!entry) throw new AgentError(AgentErrorCode.notFound, `job ${id} not found`);
    if (entry.job.state !== "running") throw new AgentError(AgentErrorCode.conflict, `job ${id} is already ${entry.job.state}`);
    entry.abort.abort();
  }

  private emit(job: Job) {
    for (const l of this.listeners) l(job);
  }

  private prune() {
    if (this.jobs.size <= JobRegistry.KEEP_FINISHED) return;
    for (const [id, { job }] of this.jobs) {
      if (job.state !== "running") this.jobs.delete(id);
      if (this.jobs.size <= JobRegistry.KEEP_FINISHED) break;
    }
  }
}
