import { PerformanceObserver, performance } from "node:perf_hooks";

export interface Stall {
  /** When the late tick ran (ms since the epoch). */
  at: number;
  /** How long the event loop was held (the tick's lateness, ms). */
  ms: number;
  /** GC pause overlapping the stall (ms; 0: none). */
  gcMs: number;
  /** CPU time the process used meanwhile (ms): far below `ms`, the machine did not run it (other processes), not a long turn. */
  cpuMs: number;
}

/**
 * Every turn of the event loop that held it longer than `thresholdMs`, one by one (the histogram
 * on /healthz says how often, not when): a 10 ms tick's lateness is the length of the turn that
 * delayed it. GC pauses are observed beside it, so a stall caused by the collector says so, and
 * the CPU the process used meanwhile, so a machine too busy to run it is told apart. Off
 * by default (100 wake-ups a second are ~0.2 % of a core); `NIMBUS_STALL_WATCH=1` turns it on for
 * the benchmark (`pnpm bench --only stalls`).
 */
export class StallWatch {
  private readonly stalls: { end: number; ms: number; cpuMs: number }[] = [];
  private readonly gcs: { start: number; end: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private observer: PerformanceObserver | null = null;

  constructor(
    private readonly thresholdMs = 20,
    private readonly keep = 500,
    private readonly tickMs = 10,
  ) {}

  start() {
    let last = performance.now();
    let cpu = process.cpuUsage();
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = now - last - this.tickMs;
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      last = now;
      if (late >= this.thresholdMs) this.note(now, late, (used.user + used.system) / 1000);
    }, this.tickMs);
    this.timer.unref();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcs.push({ start: e.startTime, end: e.startTime + e.duration });
        if (this.gcs.length > this.keep) this.gcs.shift();
      }
    });
    this.observer.observe({ entryTypes: ["gc"] });
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.observer?.disconnect();
    this.timer = null;
    this.observer = null;
  }

  /** A stall that ended at `end` (performance.now()) and lasted `ms`. */
  note(end: number, ms: number, cpuMs = ms) {
    this.stalls.push({ end, ms, cpuMs });
    if (this.stalls.length > this.keep) this.stalls.shift();
  }

  /** The stalls since `since` (ms since the epoch), oldest first; GC is matched when asked (its entries arrive after the pause). */
  since(since = 0): Stall[] {
    return this.stalls
      .map(({ end, ms, cpuMs }) => {
        let gcMs = 0;
        for (const g of this.gcs) gcMs += Math.max(0, Math.min(end, g.end) - Math.max(end - ms, g.start));
        return { at: Math.round(performance.timeOrigin + end), ms: Math.round(ms * 10) / 10, gcMs: Math.round(gcMs * 10) / 10, cpuMs: Math.round(cpuMs * 10) / 10 };
      })
      .filter((s) => s.at >= since);
  }
}
