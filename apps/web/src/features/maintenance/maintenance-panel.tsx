import type { Operation } from "@nimbus/domain";
import type { ReactNode } from "react";
import { Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import type { MaintenanceView } from "@/lib/api-types";
import { maintenanceStatus } from "./maintenance-status";

/**
 * A host's maintenance at the top of its page: where it stands, in the server's words, and the
 * evacuation (running, or just ended) drawn by the slot the caller fills with live progress.
 */
export function MaintenancePanel({ view, evacuation, renderEvacuation }: { view: MaintenanceView; evacuation?: Operation; renderEvacuation: (op: Operation) => ReactNode }) {
  const status = maintenanceStatus(view.state);
  return (
    <Panel
      title={
        <div className="flex items-center gap-2">
          <h2 className="text-[13.5px] font-semibold">Maintenance</h2>
          {status && (
            <span data-testid="maintenance-state" data-state={view.state}>
              <StatusBadge status={status} />
            </span>
          )}
        </div>
      }
      className={view.state === "evacuating" ? "border-accent/40" : undefined}
    >
      <div className="flex flex-col gap-3">
        <p className="text-[13px]" data-testid="maintenance-message">
          {view.message}
        </p>
        {evacuation && renderEvacuation(evacuation)}
      </div>
    </Panel>
  );
}
