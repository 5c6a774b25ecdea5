import { applyCheckResult, cutText, initialCheckState, realCheckTimers, type CheckState, type CheckTimers, type RawCheck } from "@nimbus/domain";

/**
 * The console's own dependencies as active checks, probed by the server itself (no agent can):
 * its database, with the same rise/fall semantics as the agents' checks. The health monitor
 * samples `checks()` with the fleet's.
 */
export class ConsoleChecks {
  private state: CheckState = initialCheckState();
  private last = "no probe yet";
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly probes: { database: () => Promise<unknown> },
    private readonly opts: { intervalMs?: number; timeoutMs?: number; rise?: number; fall?: number; timers?: CheckTimers } = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
  }

  checks(): RawCheck[] {
    const s = this.state.status;
    return [
      {
        id: "console:database",
        category: "host",
        target: "console database",
        state: s === "up" ? "ok" : s === "down" ? "crit" : "unknown",
        message: s === "unknown" ? `not decided yet: ${this.last}` : `${s === "up" ? "UP" : "DOWN"}: ${this.last}`,
        affects: ["nimbus console"],
        tenants: [],
      },
    ];
  }

  private get timers() {
    return this.opts.timers ?? realCheckTimers;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => void this.probe(), ms);
  }

  private async probe() {
    const timeoutMs = this.opts.timeoutMs ?? 2_000;
    let ok = true;
    let message = "answers";
    let timeout: unknown = null;
    try {
      await Promise.race([
        this.probes.database(),
        new Promise((_, reject) => (timeout = this.timers.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (err) {
      ok = false;
      message = cutText(err instanceof Error ? err.message : String(err), 200);
    } finally {
      this.timers.clearTimeout(timeout);
    }
    this.state = applyCheckResult(this.state, ok, this.timers.now().toISOString(), { rise: this.opts.rise ?? 2, fall: this.opts.fall ?? 3 });
    this.last = message;
    this.schedule(this.opts.intervalMs ?? 5_000);
  }
}
