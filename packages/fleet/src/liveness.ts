/**
 * Liveness from traffic. Agents push data all the time, so a connection that received something
 * recently is alive and needs no ping; only a silent one is probed, and one silent for too long is
 * declared lost. One sweep (one timer) serves the whole fleet. This replaces ssh2's keepalive,
 * which pinged every host on a fixed interval however busy its link was (133 pings/s at 2,000 hosts).
 */

export interface LivenessPolicy {
  /** Silence after which a connection is probed (again every keepaliveMs while it stays silent). */
  keepaliveMs: number;
  /** Silence of keepaliveMs * countMax declares the connection lost. */
  countMax: number;
}

export const DEFAULT_LIVENESS: LivenessPolicy = { keepaliveMs: 15_000, countMax: 3 };

export interface LivenessState {
  /** When the connection last received anything (ms since the epoch). */
  lastReceivedAt: number;
  /** When it was last probed; null if never. */
  lastProbeAt: number | null;
}

export type LivenessAction = "none" | "probe" | "lost";

export const lostAfterMs = (p: LivenessPolicy) => p.keepaliveMs * Math.max(1, p.countMax);

/** What to do with one connection now: nothing, probe it, or declare it lost. */
export function livenessAction(s: LivenessState, now: number, p: LivenessPolicy): LivenessAction {
  const silentMs = now - s.lastReceivedAt;
  if (silentMs >= lostAfterMs(p)) return "lost";
  if (silentMs < p.keepaliveMs) return "none";
  // A probe sent after the last data is still unanswered: the next one is due an interval later.
  const pending = s.lastProbeAt !== null && s.lastProbeAt >= s.lastReceivedAt;
  return pending && now - s.lastProbeAt! < p.keepaliveMs ? "none" : "probe";
}

/** One watched connection, as the sweep sees it. */
export interface LivenessTarget {
  lastReceivedAt(): number;
  /** Send something the peer must answer; its answer is traffic like any other. */
  probe(): void;
  /** Silent for lostAfterMs: end the connection the way a keepalive timeout does. */
  lost(silentMs: number): void;
}

const SWEEP_MS = 250;

interface Entry {
  target: LivenessTarget;
  lastProbeAt: number | null;
}

/**
 * The fleet-wide sweep: every SWEEP_MS (or keepaliveMs / 3 if shorter) it looks at each watched
 * connection. Short passes spread the probes: hosts that connected together fall silent together,
 * and a 5 s pass probed a thousand of them at once (a 490 ms stall at 2,000 hosts); a 250 ms pass
 * over 2,000 entries costs a few microseconds each time it finds nothing to do. Its timer runs only
 * while something is watched and never keeps the process alive.
 */
export class LivenessSweep {
  readonly intervalMs: number;
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | null = null;
  private lastSweepAt: number | null = null;

  constructor(
    readonly policy: LivenessPolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.intervalMs = Math.max(1, Math.min(SWEEP_MS, Math.floor(policy.keepaliveMs / 3)));
  }

  get lostAfterMs(): number {
    return lostAfterMs(this.policy);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether the timer runs (only while something is watched). */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Watches a connection until the returned function is called. */
  watch(target: LivenessTarget): () => void {
    const entry: Entry = { target, lastProbeAt: null };
    this.entries.add(entry);
    if (!this.timer) {
      this.lastSweepAt = this.now();
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.entries.delete(entry);
      if (this.entries.size === 0) this.stop();
    };
  }

  /**
   * One pass over every connection; returns how many were probed and lost. A pass that runs far
   * behind schedule (the process was stopped or the event loop blocked) judges nothing: data that
   * arrived meanwhile is still unread, and the hosts would look silent through our own fault.
   */
  sweep(now = this.now()): { probed: number; lost: number } {
    const late = this.lastSweepAt !== null && now - this.lastSweepAt > 2 * this.intervalMs;
    this.lastSweepAt = now;
    let probed = 0;
    let lost = 0;
    if (late) return { probed, lost };
    for (const entry of this.entries) {
      const lastReceivedAt = entry.target.lastReceivedAt();
      const action = livenessAction({ lastReceivedAt, lastProbeAt: entry.lastProbeAt }, now, this.policy);
      if (action === "probe") {
        entry.lastProbeAt = now;
        probed++;
        entry.target.probe();
      } else if (action === "lost") {
        this.entries.delete(entry);
        lost++;
        entry.target.lost(now - lastReceivedAt);
      }
    }
    return { probed, lost };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lastSweepAt = null;
  }
}
