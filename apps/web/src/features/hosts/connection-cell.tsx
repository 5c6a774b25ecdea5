import type { HostSummary } from "@nimbus/domain";
import { StatusBadge } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { connectionStatus } from "@/lib/status";

/** Connection state with the time that matters: since when online, or when last seen. */
export function ConnectionCell({ host }: { host: Pick<HostSummary, "state" | "since" | "lastSeen" | "message"> }) {
  const online = host.state === "online";
  return (
    <div className="flex items-center gap-2">
      <StatusBadge status={connectionStatus(host.state)} title={host.message} />
      {/* On a phone the state is what fits; the times are on the host's page. */}
      <span className="hidden text-[11.5px] text-muted sm:inline">
        {online ? (
          <RelativeTime iso={host.since} prefix="since " />
        ) : (
          <>
            <RelativeTime iso={host.since} prefix="since " />
            {host.lastSeen && (
              <>
                {" · seen "}
                <RelativeTime iso={host.lastSeen} />
              </>
            )}
          </>
        )}
      </span>
    </div>
  );
}
