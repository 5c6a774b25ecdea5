import type { FleetEvent, FleetView } from "../../src/contract.js";

/** Resolves when `check` returns a truthy value; polls briefly and fails with `what` after the timeout. */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the first fleet event matching `match` (checked from now on). */
export function nextEvent<E extends FleetEvent>(fleet: FleetView, match: (e: FleetEvent) => e is E, what: string, timeoutMs?: number): Promise<E>;
export function nextEvent(fleet: FleetView, match: (e: FleetEvent) => boolean, what: string, timeoutMs?: number): Promise<FleetEvent>;
export function nextEvent(fleet: FleetView, match: (e: FleetEvent) => boolean, what: string, timeoutMs = 5_000): Promise<FleetEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    const off = fleet.subscribe((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** Resolves when `host` reaches `state` (immediately if it already is there). */
export function hostState(fleet: FleetView, host: string, state: string, timeoutMs = 5_000) {
  if (fleet.host(host)?.connection.state === state) return Promise.resolve(fleet.host(host)!);
  return nextEvent(fleet, (e) => e.type === "host" && e.host.name === host && e.host.connection.state === state, `${host} ${state}`, timeoutMs).then(
    (e) => (e as Extract<FleetEvent, { type: "host" }>).host,
  );
}
