"use client";
import { createContext, useContext, useSyncExternalStore } from "react";

/**
 * One shared clock for every relative time ("3 min ago") on the page: a single timer re-renders
 * them every few seconds. It moves labels only; it never fetches anything.
 */
const TICK_MS = 5_000;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      listeners.forEach((l) => l());
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Tests and fixture renders pin the time with <FixedNow value={…}>. */
export const FixedNowContext = createContext<number | null>(null);

export function useNow(): number {
  const fixed = useContext(FixedNowContext);
  const live = useSyncExternalStore(subscribe, () => now, () => now);
  return fixed ?? live;
}
