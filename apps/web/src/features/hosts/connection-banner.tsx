import type { HostRecord } from "@nimbus/domain";
import type { ReactNode } from "react";
import { RelativeTime } from "@/components/ui/time";
import { cx } from "@/lib/cx";

/**
 * Why a host is not online, where people look first. A changed host key gets its own banner:
 * it blocks the host until an admin accepts the new key (the button comes from the caller,
 * only for viewers who may do it).
 */
export function ConnectionBanner({ host, acceptKey }: { host: HostRecord; acceptKey?: ReactNode }) {
  const c = host.connection;
  if (c.state === "online") return null;
  const tone = c.state === "connecting" ? "border-border bg-panel-2" : c.state === "agent-missing" ? "border-warn/40 bg-warn-soft" : "border-crit/40 bg-crit-soft";
  return (
    <div role="alert" data-testid="connection-banner" data-state={c.state} className={cx("rounded-lg border p-4 text-[13px]", tone)}>
      {c.state === "key-changed" ? (
        <div className="flex flex-wrap items-start gap-4">
          <div className="min-w-0 flex-1">
            <p className="font-semibold text-crit">Host key changed — {host.name} is blocked</p>
            <p className="mt-1">
              {host.name} presented a different SSH host key. Nimbus will not talk to it until an admin accepts the new key. If nobody reinstalled this host,
              someone may be intercepting the connection: check before accepting.
            </p>
            <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 font-mono text-[12px]">
              <dt className="font-sans text-muted">Pinned</dt>
              <dd className="break-all">{c.pinnedKey ?? "—"}</dd>
              <dt className="font-sans text-muted">Offered</dt>
              <dd className="break-all">{c.offeredKey ?? "—"}</dd>
            </dl>
          </div>
          {acceptKey}
        </div>
      ) : c.state === "connecting" ? (
        <p>
          Connecting to {host.name}… <RelativeTime iso={c.since} prefix="started " />
        </p>
      ) : (
        <div>
          <p className="font-semibold text-crit">
            {c.state === "unreachable" ? "Unreachable" : c.state === "auth-failed" ? "SSH authentication failed" : c.state === "protocol-mismatch" ? "Agent protocol mismatch" : "Agent missing"}{" "}
            <RelativeTime iso={c.since} prefix="since " />
            <span className="font-normal text-fg">
              {" "}
              (last seen <RelativeTime iso={c.lastSeen} />)
            </span>
            {c.nextRetryAt && (
              <span className="font-normal text-fg">
                , retrying <RelativeTime iso={c.nextRetryAt} />
              </span>
            )}
          </p>
          {c.message && <p className="mt-1 font-mono text-[12px]">{c.message}</p>}
        </div>
      )}
    </div>
  );
}
