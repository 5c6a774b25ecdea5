import type { LbBackendView, LoadBalancerView } from "@nimbus/domain";
import type { ReactNode } from "react";
import { Panel } from "@/components/ui/panel";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { EmptyState } from "@/components/ui/states";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { formatAbsolute, formatRelative } from "@/lib/format";
import type { Status } from "@/lib/status";

const backendStates: Record<LbBackendView["state"], Status> = {
  up: { tone: "ok", label: "UP" },
  down: { tone: "crit", label: "DOWN" },
  maint: { tone: "neutral", label: "MAINT" },
  drain: { tone: "warn", label: "DRAIN" },
  unknown: { tone: "unknown", label: "Unknown" },
};
/** HAProxy's own word, with its transition ("DOWN 1/2": rising) when there is one. */
export const backendStatus = (b: Pick<LbBackendView, "state" | "status">): Status => ({ ...backendStates[b.state], label: b.status || backendStates[b.state].label });

const lbStates: Record<LoadBalancerView["status"], Status> = {
  applied: { tone: "ok", label: "Applied" },
  changed: { tone: "warn", label: "Changed outside Nimbus" },
  stale: { tone: "warn", label: "Swarm changed" },
  "not-running": { tone: "crit", label: "Not running" },
  "not-applied": { tone: "unknown", label: "Not applied" },
  "edge-unreachable": { tone: "crit", label: "Edge host unreachable" },
};
export const lbStatus = (lb: Pick<LoadBalancerView, "status" | "up" | "total">): Status =>
  lb.status === "applied" && lb.total > 0 && lb.up < lb.total ? { tone: lb.up === 0 ? "crit" : "warn", label: `${lb.up} of ${lb.total} up` } : lbStates[lb.status];

const targetText = (lb: LoadBalancerView) =>
  lb.spec.target.kind === "service" ? `service ${lb.spec.target.service}${lb.spec.target.port ? ` :${lb.spec.target.port}` : ""}` : `${lb.spec.target.servers.length} addresses`;
const checkText = (lb: LoadBalancerView) => {
  const c = lb.spec.check;
  const what = lb.spec.mode === "http" && c.httpPath ? `GET ${c.httpPath} → ${c.expectStatus}` : "TCP connect";
  return `${what}, every ${c.interMs} ms, rise ${c.rise}, fall ${c.fall}`;
};

/** The share of requests a backend got, as a bar and a percentage. */
export function ShareBar({ share, muted }: { share: number; muted?: boolean }) {
  const pct = Math.round(share * 1000) / 10;
  return (
    <div className="flex items-center gap-2" title={`${pct}% of the requests`}>
      <div role="meter" aria-label="share of requests" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="relative h-1.5 w-20 shrink-0 overflow-hidden rounded-full bg-bar-track">
        <div className={muted ? "h-full rounded-full bg-muted/50" : "h-full rounded-full bg-accent"} style={{ width: `${Math.min(100, pct)}%` }} />
      </div>
      <span className="w-11 text-right text-[12px] tabular-nums text-muted">{pct.toFixed(pct >= 10 || pct === 0 ? 0 : 1)}%</span>
    </div>
  );
}

/** One load balancer's backends: HAProxy's state, its check, since when, sessions and the share of requests. */
export function BackendsTable({ lb, now }: { lb: LoadBalancerView; now: number }) {
  if (!lb.backends.length)
    return (
      <EmptyState title="No backends reported">
        {lb.status === "applied" ? "The configuration lists no server: the service runs on no node with an address." : lb.message}
      </EmptyState>
    );
  return (
    <PlainTable head={["Server", "Address", "State", "Check", "Last change", "Sessions", "Share"]} testId={`lb-backends-${lb.spec.name}`} phoneHidden={[1, 4, 5]}>
      {lb.backends.map((b) => (
        <tr key={b.name} data-testid={`lb-backend-${lb.spec.name}-${b.name}`} data-state={b.state}>
          <td className={`${plainCell} font-mono font-medium`}>{b.name}</td>
          <td className={`${plainCell} ${phoneHiddenCell} font-mono text-muted`}>{b.address ?? "—"}</td>
          <td className={plainCell}>
            <StatusBadge status={backendStatus(b)} title={b.checkDescription} />
          </td>
          <td className={`${plainCell} text-[12.5px]`} title={b.checkDescription ?? undefined}>
            {b.checkStatus ? (
              <>
                <span className="font-mono">{b.checkStatus}</span>
                {b.checkCode && <span className="text-muted"> {b.checkCode}</span>}
                {b.checkDescription && <span className="hidden text-muted lg:inline"> · {b.checkDescription}</span>}
              </>
            ) : (
              <span className="text-muted">{b.state === "maint" ? "not checked (disabled)" : "—"}</span>
            )}
          </td>
          <td className={`${plainCell} ${phoneHiddenCell} whitespace-nowrap`} title={formatAbsolute(b.lastChangeAt)}>
            {formatRelative(b.lastChangeAt, now)}
          </td>
          <td className={`${plainCell} ${phoneHiddenCell} tabular-nums`}>
            {b.sessionsCurrent} <span className="text-muted">/ {b.sessionsTotal}</span>
          </td>
          <td className={plainCell}>
            <ShareBar share={b.share} muted={b.state !== "up"} />
          </td>
        </tr>
      ))}
    </PlainTable>
  );
}

/** Every load balancer as a panel: what it fronts, how it is checked, and its backends. */
export function LoadBalancersView({
  lbs,
  now,
  actions,
  below,
}: {
  lbs: readonly LoadBalancerView[];
  now: number;
  actions?: (lb: LoadBalancerView) => ReactNode;
  below?: (lb: LoadBalancerView) => ReactNode;
}) {
  if (!lbs.length)
    return (
      <EmptyState title="No load balancers yet">
        A load balancer is an HAProxy on an edge host in front of a swarm service (every node, at its published port) or a list of addresses.
      </EmptyState>
    );
  return (
    <div className="flex flex-col gap-4">
      {lbs.map((lb) => (
        <Panel
          key={lb.spec.name}
          id={`lb-${lb.spec.name}`}
          bodyClass="p-0"
          title={
            <div className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-1">
              <h2 className="font-mono text-[13.5px] font-semibold">{lb.spec.name}</h2>
              <span data-testid={`lb-status-${lb.spec.name}`}>
                <StatusBadge status={lbStatus(lb)} title={lb.message} />
              </span>
              <span className="text-[12.5px] text-muted">
                <span className="font-mono">
                  {lb.spec.edgeHost}:{lb.spec.bind.port}
                </span>{" "}
                → {targetText(lb)}
              </span>
            </div>
          }
          actions={actions?.(lb)}
        >
          <div className="flex flex-wrap items-center gap-x-4 gap-y-1 border-b border-border px-4 py-2 text-[12px] text-muted">
            <Tag>{lb.spec.mode}</Tag>
            <span>round robin</span>
            <span>{checkText(lb)}</span>
            {lb.frontend && (
              <span className="tabular-nums">
                {lb.frontend.sessionsTotal} sessions since start{lb.pid ? ` · master pid ${lb.pid}` : ""}
              </span>
            )}
            {lb.status !== "applied" && <span className="text-warn">{lb.message}</span>}
          </div>
          <BackendsTable lb={lb} now={now} />
          {below?.(lb)}
        </Panel>
      ))}
    </div>
  );
}
