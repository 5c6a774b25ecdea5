import type { HostRecord } from "../fleet.js";
import type { HealthState } from "../health.js";
import type { InputReader, RawCheck } from "../health-rules.js";
import type { CheckStatus } from "./spec.js";

const stateOf: Record<CheckStatus, HealthState> = { up: "ok", down: "crit", unknown: "unknown" };

/**
 * The host's active checks as health checks. The agent already applied rise/fall, so a state
 * here is settled; the health monitor's own hysteresis comes on top, as for every check.
 */
export function activeCheckHealth(h: HostRecord): RawCheck[] {
  const checks = h.inventory.checks?.checks;
  if (!checks?.length || h.connection.state !== "online") return [];
  return checks.map((c) => ({
    id: c.id,
    category: c.category,
    target: c.target,
    state: stateOf[c.status],
    message: c.status === "unknown" ? `not decided yet: ${c.lastResult || "no probe yet"}` : `${c.status === "up" ? "UP" : "DOWN"}: ${c.lastResult}`,
    affects: c.affects,
    tenants: c.tenants,
  }));
}

export function activeCheckInputs(h: HostRecord, input: InputReader) {
  const checks = h.inventory.checks?.checks ?? [];
  input.see(checks.length);
  for (const c of checks) {
    input.see(c.id);
    input.see(c.status);
    // While a state holds, only what the last probe said changes the message.
    input.see(c.lastResult);
  }
}
