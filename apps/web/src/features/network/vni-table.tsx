import { StatusBadge, Tag } from "@/components/ui/status-badge";
import type { VniRow } from "./ports";

/** VXLAN tunnels per VNI: which hosts carry it, every endpoint, and whether the mesh is whole. */
export function VniTable({ rows, tenantOfVni }: { rows: VniRow[]; tenantOfVni: ReadonlyMap<number, string> }) {
  if (!rows.length) return <p className="py-2 text-[13px] text-muted">No VXLAN tunnels reported.</p>;
  return (
    <div className="overflow-x-auto rounded-md border border-border">
      <table className="w-full text-[12.5px]" data-testid="vni-table">
        <thead>
          <tr className="bg-panel-2 text-left text-[11px] uppercase tracking-wide text-muted">
            <th className="px-3 py-1.5 font-semibold">VNI</th>
            <th className="px-3 py-1.5 font-semibold">Tenant</th>
            <th className="px-3 py-1.5 font-semibold">Mesh</th>
            <th className="px-3 py-1.5 font-semibold">Tunnels (host: port local → remote)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.vni} className="border-t border-border align-top" data-testid={`vni-row-${r.vni}`}>
              <td className="px-3 py-2 font-mono font-semibold tabular-nums">{r.vni}</td>
              <td className="px-3 py-2">{tenantOfVni.get(r.vni) ?? <span className="text-faint">—</span>}</td>
              <td className="px-3 py-2">
                {r.missing === null ? (
                  <StatusBadge status={{ tone: "unknown", label: "Unknown" }} title="local tunnel addresses not reported" />
                ) : r.missing.length ? (
                  <div className="flex flex-col gap-1">
                    <StatusBadge status={{ tone: "crit", label: "Incomplete" }} />
                    <span className="text-[11.5px] text-crit">missing {r.missing.join(", ")}</span>
                  </div>
                ) : (
                  <StatusBadge status={{ tone: "ok", label: `Complete (${r.hosts.length} hosts)` }} />
                )}
              </td>
              <td className="px-3 py-2">
                <ul className="flex flex-col gap-0.5">
                  {r.endpoints.map((e) => (
                    <li key={`${e.host}/${e.port}`} className="whitespace-nowrap font-mono text-[12px]">
                      <span className="font-sans font-medium">{e.host}</span>: {e.port} {e.local ?? "?"} → {e.remote ?? "multicast"}:{e.dstPort}
                      {!e.up && (
                        <span className="ml-2">
                          <Tag>down</Tag>
                        </span>
                      )}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
