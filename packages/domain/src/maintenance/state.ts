import type { HostRecord } from "../fleet.js";
import type { Operation } from "../operations.js";

/**
 * Where a host stands with maintenance, from its flag, the VMs still running on it and the
 * evacuation in progress (if any). "in-maintenance" only once it is empty: that is when it is
 * safe to power off.
 */
export type MaintenanceState = "active" | "evacuating" | "in-maintenance" | "not-empty";

export interface HostMaintenanceView {
  host: string;
  flag: boolean;
  state: MaintenanceState;
  runningVms: string[];
  /** The evacuation operation running now, if any. */
  operationId: string | null;
  /** False while the host is not online: its VMs are then what it last reported, or unknown. */
  current: boolean;
  message: string;
}

export function hostMaintenanceView(host: HostRecord, evacuation: Operation | null): HostMaintenanceView {
  const runningVms = (host.inventory.virt?.domains ?? []).filter((d) => d.state === "running" || d.state === "paused").map((d) => d.name);
  const current = host.connection.state === "online" && host.inventory.virt !== null;
  const base = { host: host.name, flag: host.maintenance, runningVms, operationId: evacuation?.id ?? null, current };
  if (evacuation) return { ...base, state: "evacuating", message: `${host.name} is being evacuated: ${runningVms.length} VM(s) still running on it` };
  if (!host.maintenance) return { ...base, state: "active", message: `${host.name} takes new VMs` };
  // A host switched off for its maintenance is the normal case: the flag is what counts.
  if (!current) return { ...base, state: "in-maintenance", message: `${host.name} is in maintenance (${host.connection.state}: its VMs are not known right now)` };
  if (runningVms.length === 0) return { ...base, state: "in-maintenance", message: `${host.name} is in maintenance and empty: safe to work on` };
  return { ...base, state: "not-empty", message: `${host.name} takes no new VMs, but ${runningVms.join(", ")} still run on it` };
}
