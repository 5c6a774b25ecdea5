import type { HostRecord } from "../fleet.js";
import type { InputReader, RawCheck } from "../health-rules.js";

/**
 * Each load balancer on the host as health checks: the HAProxy itself (running or not) and each
 * server HAProxy checks (DOWN is critical; a server in maintenance or draining left the rotation
 * on purpose and is fine). The check ids start with `lb:`, the target names the balancer.
 */
export function lbHealth(h: HostRecord): RawCheck[] {
  const balancers = h.inventory.lb?.balancers;
  if (!balancers?.length || h.connection.state !== "online") return [];
  const checks: RawCheck[] = [];
  for (const b of balancers) {
    checks.push({
      id: `lb:${b.name}`,
      category: "network",
      target: `load balancer ${b.name} on ${h.name}`,
      state: b.running ? "ok" : "crit",
      message: b.running ? "HAProxy running" : `HAProxy not running${b.error ? `: ${b.error}` : ""}`,
      affects: [b.name],
      tenants: [],
    });
    if (!b.running) continue;
    for (const s of b.servers)
      checks.push({
        id: `lb:${b.name}:${s.name}`,
        category: "network",
        target: `${b.name} backend ${s.name}`,
        state: s.state === "down" ? "crit" : s.state === "unknown" ? "unknown" : "ok",
        message: `${s.status}${s.checkDescription ? `: ${s.checkDescription}` : s.checkStatus ? ` (${s.checkStatus})` : ""}`,
        affects: [b.name],
        tenants: [],
      });
  }
  return checks;
}

export function lbHealthInputs(h: HostRecord, input: InputReader) {
  const balancers = h.inventory.lb?.balancers ?? [];
  input.see(balancers.length);
  for (const b of balancers) {
    input.see(b.name);
    input.see(b.running);
    input.see(b.error);
    input.see(b.servers.length);
    for (const s of b.servers) {
      input.see(s.name);
      input.see(s.status);
      input.see(s.checkStatus);
      input.see(s.checkDescription);
    }
  }
}
