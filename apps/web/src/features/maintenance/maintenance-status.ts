import type { MaintenanceState } from "@nimbus/domain";
import type { Status } from "@/lib/status";

const statuses: Record<MaintenanceState, Status | null> = {
  active: null,
  evacuating: { tone: "accent", label: "Evacuating" },
  // Only once it is empty: that is when it is safe to power off.
  "in-maintenance": { tone: "unknown", label: "In maintenance" },
  "not-empty": { tone: "warn", label: "Maintenance, VMs left" },
};

/** The word for where a host stands with maintenance; null for a host in normal service. */
export const maintenanceStatus = (state: MaintenanceState): Status | null => statuses[state];
