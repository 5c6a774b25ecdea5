"use client";
import { memo, useMemo } from "react";
import type { StorageOverview } from "@nimbus/domain";
import { EmptyState } from "@/components/ui/states";
import { NameList } from "@/components/ui/name-list";

export interface MountGroup {
  source: string;
  target: string;
  hosts: string[];
}

/** One row per export and mount point with the hosts that mount it: 2,000 hypervisors make one row, not 2,000. */
export function mountGroups(mounts: StorageOverview["mounts"]): MountGroup[] {
  const groups = new Map<string, MountGroup>();
  for (const m of mounts) {
    const key = `${m.source}\u0000${m.target}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { source: m.source, target: m.target, hosts: [] }));
    g.hosts.push(m.host);
  }
  for (const g of groups.values()) g.hosts.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return [...groups.values()].sort((a, b) => a.target.localeCompare(b.target) || a.source.localeCompare(b.source));
}

/**
 * Who mounts what, grouped. Memoised on the mounts' content so a pushed datastore change (which
 * re-sends the storage overview) does not re-render thousands of host names.
 */
export const MountGroups = memo(
  function MountGroups({ mounts }: { mounts: StorageOverview["mounts"] }) {
    const groups = useMemo(() => mountGroups(mounts), [mounts]);
    if (!groups.length) return <EmptyState title="No NFS mounts reported" />;
    return (
      <table className="w-full text-[12.5px]" data-testid="mount-groups">
        <thead>
          <tr className="bg-panel-2 text-left text-[11px] uppercase tracking-wide text-muted">
            <th className="px-3 py-1.5 font-semibold">Source</th>
            <th className="px-3 py-1.5 font-semibold">Mounted on</th>
            <th className="px-3 py-1.5 text-right font-semibold">Hosts</th>
            <th className="hidden px-3 py-1.5 font-semibold sm:table-cell">Which</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={`${g.source}:${g.target}`} className="border-t border-border align-top">
              <td className="px-3 py-1.5 font-mono">{g.source}</td>
              <td className="px-3 py-1.5 font-mono">{g.target}</td>
              <td className="px-3 py-1.5 text-right tabular-nums">{g.hosts.length.toLocaleString("en-US")}</td>
              <td className="hidden px-3 py-1.5 text-muted sm:table-cell">
                <NameList names={g.hosts} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  },
  (a, b) => a.mounts === b.mounts || sameMounts(a.mounts, b.mounts),
);

function sameMounts(a: StorageOverview["mounts"], b: StorageOverview["mounts"]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.host !== b[i]!.host || a[i]!.source !== b[i]!.source || a[i]!.target !== b[i]!.target) return false;
  return true;
}
