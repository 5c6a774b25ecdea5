import type { HostRecord, HostSummary } from "@nimbus/domain";
import type { ReactNode } from "react";
import { Facts, Panel } from "@/components/ui/panel";
import { Tag } from "@/components/ui/status-badge";
import { UsageBar } from "@/components/ui/usage-bar";
import { RelativeTime } from "@/components/ui/time";
import { formatBytes, formatDuration, formatMiB, percentOf } from "@/lib/format";
import { BridgesView } from "@/features/network/bridges-view";
import { ConnectionBanner } from "./connection-banner";
import { ConnectionCell } from "./connection-cell";

/** Everything about one host, drawn from hosts.get's answer. The VM table comes as a slot. */
export function HostDetail({ host, summary, acceptKey, instances }: { host: HostRecord; summary: HostSummary; acceptKey?: ReactNode; instances: ReactNode }) {
  const n = host.inventory.node;
  const storage = host.inventory.storage;
  return (
    <div className="flex flex-col gap-4">
      <ConnectionBanner host={host} acceptKey={acceptKey} />
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
        <Panel title="Usage" className="lg:col-span-1">
          <div className="flex flex-col gap-3 text-[13px]">
            <Usage label="CPU" pct={summary.cpuUsagePct} detail={n ? `${n.cpuCount} CPUs` : "—"} />
            <Usage label="Memory" pct={percentOf(summary.memoryUsedMiB, summary.memoryTotalMiB)} detail={`${formatMiB(summary.memoryUsedMiB)} of ${formatMiB(summary.memoryTotalMiB)}`} />
            <Usage label="Disk" pct={percentOf(summary.diskUsedBytes, summary.diskTotalBytes)} detail={`${formatBytes(summary.diskUsedBytes)} of ${formatBytes(summary.diskTotalBytes)}`} />
          </div>
        </Panel>
        <Panel title="Facts" className="lg:col-span-2">
          <Facts
            items={[
              ["Connection", <ConnectionCell key="c" host={summary} />],
              ["Address", <span key="a" className="font-mono">{`${host.address}:${host.port}`}</span>],
              ["Roles", <span key="r" className="inline-flex gap-1">{summary.roles.map((r) => <Tag key={r}>{r}</Tag>)}</span>],
              ["Agent", host.connection.agentVersion ? `v${host.connection.agentVersion} · ${host.connection.capabilities.join(", ") || "no capabilities"}` : "—"],
              ["OS", n ? `${n.os} · ${n.kernel}` : "—"],
              ["CPU", n ? `${n.cpuModel} × ${n.cpuCount}` : "—"],
              ["Hypervisor", host.inventory.virt?.hypervisor ?? "—"],
              ["Uptime", n ? formatDuration(n.uptimeSeconds * 1000) : "—"],
              ["Last seen", <RelativeTime key="l" iso={host.connection.lastSeen} />],
              ["Host key", <span key="k" className="font-mono text-[11.5px]">{host.connection.pinnedKey ?? "not pinned yet"}</span>],
              ["NFS mounts", storage?.mounts.length ? storage.mounts.map((m) => `${m.source} on ${m.target}`).join(", ") : "—"],
              ["Maintenance", host.maintenance ? "yes: no new placements or migrations to it" : "no"],
            ]}
          />
        </Panel>
      </div>
      {host.inventory.virt && (
        <Panel title={`Virtual machines (${summary.vmsRunning} running of ${summary.vmsTotal})`} bodyClass="p-0">
          {instances}
        </Panel>
      )}
      {host.inventory.net && (
        <Panel title="Bridges and ports">
          <BridgesView bridges={host.inventory.net.bridges} />
        </Panel>
      )}
    </div>
  );
}

function Usage({ label, pct, detail }: { label: string; pct: number | null; detail: string }) {
  return (
    <div>
      <div className="mb-1 flex justify-between text-[12px]">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums text-muted">{detail}</span>
      </div>
      <UsageBar pct={pct} width="flex-1" className="w-full" />
    </div>
  );
}
