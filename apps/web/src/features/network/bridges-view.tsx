import type { Bridge } from "@nimbus/domain";
import Link from "next/link";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { portConfig } from "./ports";

const modeOrder = { uplink: 0, trunk: 1, vxlan: 2, access: 3, internal: 4, vm: 5 } as const;

/** One host's bridges with their ports: what each port carries and which VM NIC sits on it. */
export function BridgesView({ bridges, linkVms = true }: { bridges: Bridge[]; linkVms?: boolean }) {
  if (!bridges.length) return <p className="py-2 text-[13px] text-muted">No bridges reported.</p>;
  return (
    <div className="flex flex-col gap-4">
      {bridges.map((b) => (
        <div key={b.name} data-testid={`bridge-${b.name}`}>
          <div className="mb-1.5 flex items-center gap-2 text-[13px]">
            <span className="font-mono font-semibold">{b.name}</span>
            <Tag>{b.type === "ovs" ? "Open vSwitch" : "Linux bridge"}</Tag>
            <span className="text-[12px] text-muted">MTU {b.mtu ?? "—"} · {b.ports.length} ports</span>
          </div>
          <div className="overflow-x-auto rounded-md border border-border">
            <table className="w-full min-w-[640px] table-fixed text-[12.5px]">
              <colgroup>
                <col className="w-[16%]" />
                <col className="w-[10%]" />
                <col className="w-[28%]" />
                <col className="w-[28%]" />
                <col className="w-[8%]" />
                <col className="w-[10%]" />
              </colgroup>
              <thead>
                <tr className="bg-panel-2 text-left text-[11px] uppercase tracking-wide text-muted">
                  <th className="px-3 py-1.5 font-semibold">Port</th>
                  <th className="px-3 py-1.5 font-semibold">Mode</th>
                  <th className="px-3 py-1.5 font-semibold">Carries</th>
                  <th className="px-3 py-1.5 font-semibold">VM NIC</th>
                  <th className="px-3 py-1.5 text-right font-semibold">MTU</th>
                  <th className="px-3 py-1.5 font-semibold">Link</th>
                </tr>
              </thead>
              <tbody>
                {[...b.ports]
                  .sort((x, y) => modeOrder[x.mode] - modeOrder[y.mode] || x.name.localeCompare(y.name))
                  .map((p) => (
                    <tr key={p.name} className="border-t border-border">
                      <td className="truncate px-3 py-1.5 font-mono" title={p.name}>{p.name}</td>
                      <td className="px-3 py-1.5">
                        <Tag>{p.mode}</Tag>
                      </td>
                      <td className="truncate px-3 py-1.5 tabular-nums" title={portConfig(p)}>{portConfig(p)}</td>
                      <td className="truncate px-3 py-1.5">
                        {p.attached ? (
                          <>
                            {linkVms ? (
                              <Link className="hover:text-accent hover:underline" href={`/instances/${encodeURIComponent(p.attached.domain)}`}>
                                {p.attached.domain}
                              </Link>
                            ) : (
                              p.attached.domain
                            )}
                            <span className="ml-1.5 font-mono text-[11px] text-faint">{p.attached.mac}</span>
                          </>
                        ) : (
                          <span className="text-faint">—</span>
                        )}
                      </td>
                      <td className="px-3 py-1.5 text-right tabular-nums">{p.mtu ?? "—"}</td>
                      <td className="px-3 py-1.5">
                        <StatusBadge status={p.up ? { tone: "ok", label: "Up" } : { tone: "crit", label: "Down" }} />
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </div>
  );
}
