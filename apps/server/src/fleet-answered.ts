import type { FleetView } from "@nimbus/fleet";

/**
 * Replica mode's "every host answered its first connection attempt": no host of the fleet still
 * "connecting" in this replica's view (its own hosts connected or failed, the others' as their
 * owners report them), or `capMs` passed (a host whose owner died stays connecting until it is
 * re-owned). What waits for it (metric samples, alert decisions) runs after the mass connect, not
 * during it: a restart must not resolve and re-fire what was firing, and the fleet's start has the
 * CPU. Looked at every `everyMs` (one walk of the list), not per host change.
 */
export function everyHostAnswered(fleet: FleetView, opts: { capMs: number; everyMs?: number; stopped?: () => boolean }): Promise<void> {
  const deadline = Date.now() + opts.capMs;
  return new Promise((resolve) => {
    const check = () => {
      if (opts.stopped?.() || Date.now() >= deadline || fleet.hosts().every((h) => h.connection.state !== "connecting")) return resolve();
      setTimeout(check, opts.everyMs ?? 250);
    };
    check();
  });
}
