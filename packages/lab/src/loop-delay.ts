import { monitorEventLoopDelay } from "node:perf_hooks";

/** Event-loop delay (p50/p99/max, ms) over the last complete window; the timer never keeps the process up. */
export function eventLoopWindow(windowMs = 10_000): { lastWindow(): { p50: number; p99: number; max: number } } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  let last = { p50: 0, p99: 0, max: 0 };
  setInterval(() => {
    last = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    h.reset();
  }, windowMs).unref();
  return { lastWindow: () => last };
}
