import { CAPACITY_CRIT_PCT, CAPACITY_WARN_PCT, type StorageOverview } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { Panel } from "@/components/ui/panel";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { EmptyState } from "@/components/ui/states";
import { UsageBar } from "@/components/ui/usage-bar";
import { formatBytes } from "@/lib/format";
import { MountGroups } from "./mount-groups";
import { connectionStatus, healthStatus, type Status } from "@/lib/status";

const keepalived: Record<string, Status> = {
  master: { tone: "ok", label: "MASTER" },
  backup: { tone: "neutral", label: "BACKUP" },
  fault: { tone: "crit", label: "FAULT" },
  stopped: { tone: "crit", label: "stopped" },
};

/** The NFS pair, who holds the VIP, what they export, how full the datastores are, who mounts them. */
export function StorageView({ storage, datastoresNote }: { storage: StorageOverview; datastoresNote?: ReactNode }) {
  if (!storage.servers.length) return <EmptyState title="No NFS servers reported">Storage servers appear here once their agents report an NFS export.</EmptyState>;
  return (
    <div className="flex flex-col gap-4">
      <div
        data-testid="vip-summary"
        className={`rounded-lg border p-4 ${storage.vipHolder ? "border-border bg-panel" : "border-crit/40 bg-crit-soft"}`}
      >
        <div className="text-[12px] font-medium text-muted">Floating VIP</div>
        <div className="mt-1 flex flex-wrap items-baseline gap-x-3 text-[15px]">
          <span className="font-mono font-semibold">{storage.vip ?? "none configured"}</span>{" "}
          {storage.vipHolder ? (
            <span>
              held by <span className="font-semibold">{storage.vipHolder}</span>
            </span>
          ) : (
            <span className="font-semibold text-crit">held by no server: clients cannot reach their disks</span>
          )}
        </div>
      </div>

      <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
        {storage.servers.map((s) => (
          <Panel
            key={s.host}
            title={
              <div className="flex items-center gap-2">
                <Link href={`/hosts/${encodeURIComponent(s.host)}`} className="text-[13.5px] font-semibold hover:text-accent hover:underline">
                  {s.host}
                </Link>
                <StatusBadge status={connectionStatus(s.state)} />
                {s.holdsVip && <Tag>holds VIP</Tag>}
              </div>
            }
          >
            <div className="flex flex-col gap-3 text-[13px]">
              <div className="flex flex-wrap gap-x-6 gap-y-1">
                <span>
                  NFS server{" "}
                  <StatusBadge status={s.serverRunning ? { tone: "ok", label: "running" } : { tone: "crit", label: "stopped" }} />
                </span>
                <span>
                  keepalived {s.keepalivedState ? <StatusBadge status={keepalived[s.keepalivedState]!} /> : <span className="text-faint">—</span>}
                </span>
              </div>
              <div>
                <div className="mb-1 text-[12px] font-medium text-muted">Exports</div>
                {s.exports.length ? (
                  <ul className="flex flex-col gap-0.5">
                    {s.exports.map((e) => (
                      <li key={e.path} className="font-mono text-[12px]">
                        {e.path} <span className="text-muted">→ {e.clients.join(", ") || "nobody"}</span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span className="text-faint">none</span>
                )}
              </div>
            </div>
          </Panel>
        ))}
      </div>

      <Panel title="Datastores" bodyClass="p-0">
        {storage.datastores.length ? (
          <table className="w-full text-[12.5px]" data-testid="datastores">
            <thead>
              <tr className="bg-panel-2 text-left text-[11px] uppercase tracking-wide text-muted">
                <th className="px-3 py-1.5 font-semibold">Path</th>
                <th className="px-3 py-1.5 font-semibold">Capacity (warn {CAPACITY_WARN_PCT} %, critical {CAPACITY_CRIT_PCT} %)</th>
                <th className="hidden px-3 py-1.5 text-right font-semibold sm:table-cell">Used</th>
                <th className="hidden px-3 py-1.5 text-right font-semibold sm:table-cell">Free</th>
                <th className="px-3 py-1.5 font-semibold">Level</th>
              </tr>
            </thead>
            <tbody>
              {storage.datastores.map((d) => (
                <tr key={d.path} className="border-t border-border" data-testid={`datastore-${d.path}`}>
                  <td className="px-3 py-2 font-mono">{d.path}</td>
                  <td className="px-3 py-2">
                    <UsageBar pct={d.usedPct} thresholds={{ warn: CAPACITY_WARN_PCT, crit: CAPACITY_CRIT_PCT }} width="w-20 sm:w-64" detail={`${formatBytes(d.usedBytes)} of ${formatBytes(d.totalBytes)}`} />
                  </td>
                  <td className="hidden px-3 py-2 text-right tabular-nums sm:table-cell">
                    {formatBytes(d.usedBytes)} / {formatBytes(d.totalBytes)}
                  </td>
                  <td className="hidden px-3 py-2 text-right tabular-nums sm:table-cell">{formatBytes(d.totalBytes - d.usedBytes)}</td>
                  <td className="px-3 py-2">
                    <StatusBadge status={healthStatus(d.level)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <EmptyState title="No datastores reported" />
        )}
        {datastoresNote && <div className="border-t border-border px-3 py-2">{datastoresNote}</div>}
      </Panel>

      <Panel title="Mounts on hosts" bodyClass="p-0">
        <MountGroups mounts={storage.mounts} />
      </Panel>
    </div>
  );
}
