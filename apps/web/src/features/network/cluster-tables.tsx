import type { TenantRow, VlanRow, VniRow } from "@nimbus/domain";
import { Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";

const td = plainCell;

/** VLANs, VNIs and tenants across the cluster, from the domain's topology tables. */
export function ClusterTables({ vlans, vnis, tenants }: { vlans: VlanRow[]; vnis: VniRow[]; tenants: TenantRow[] }) {
  return (
    <div className="flex flex-col gap-4">
      <Panel title={`VXLAN VNIs (${vnis.length})`} bodyClass="p-0">
        {/* On a phone the tenants of a VNI are in the Tenants table below: the endpoints get the room. */}
        <PlainTable testId="vni-table" head={["VNI", "Tenants", "Mesh", "Endpoints (host: VLANs → remotes)"]} phoneHidden={[1]}>
          {vnis.map((r) => (
            <tr key={r.vni} data-testid={`vni-row-${r.vni}`}>
              <td className={`${td} font-mono font-semibold`}>{r.vni}</td>
              <td className={`${td} ${phoneHiddenCell}`}>{r.tenants.join(", ") || "—"}</td>
              <td className={td}>
                {r.meshComplete ? (
                  <StatusBadge status={{ tone: "ok", label: `Complete (${r.participants.length} hosts)` }} />
                ) : (
                  <div className="flex flex-col items-start gap-1">
                    <StatusBadge status={{ tone: "crit", label: "Incomplete" }} />
                    <span className="text-[11.5px] text-crit">
                      missing {r.missing.map((m) => `${m.from} → ${m.to}`).join(", ")}
                      {r.missingCount > r.missing.length && ` and ${(r.missingCount - r.missing.length).toLocaleString("en-US")} more`}
                    </span>
                  </div>
                )}
              </td>
              <td className={td}>
                <ul className="flex flex-col gap-0.5">
                  {r.hosts.map((h) => (
                    // One line per host where there is room; wrapped on a phone rather than scrolled.
                    <li key={h.host} className="sm:whitespace-nowrap">
                      <span className="font-medium">{h.host}</span>: VLAN {h.vlans.join(", ") || "—"} →{" "}
                      <span className="font-mono text-[11.5px]">
                        {h.remotes.map((x) => `${x.host ?? x.remote ?? "?"}${x.up ? "" : " (down)"}`).join(", ") || "none"}
                      </span>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </PlainTable>
      </Panel>
      <Panel title={`VLANs (${vlans.length})`} bodyClass="p-0">
        <PlainTable testId="vlan-table" head={["VLAN", "Tenants", "Hosts (carried by a trunk?)", "VMs"]}>
          {vlans.map((r) => (
            <tr key={r.vlan}>
              <td className={`${td} font-mono font-semibold`}>{r.vlan}</td>
              <td className={td}>{r.tenants.join(", ") || "—"}</td>
              <td className={td}>
                {r.hosts.map((h) => (
                  <span key={h.host} className={`mr-3 whitespace-nowrap ${h.present && !h.carried ? "text-crit" : ""}`}>
                    {h.host} {h.present ? (h.carried ? "✓" : "✕ not trunked") : "—"}
                  </span>
                ))}
              </td>
              <td className={td}>{r.vms.map((v) => v.name).join(", ") || "—"}</td>
            </tr>
          ))}
        </PlainTable>
      </Panel>
      <Panel title={`Tenants (${tenants.length})`} bodyClass="p-0">
        <PlainTable testId="tenant-network-table" head={["Tenant", "VNI", "VLANs", "Hosts → VMs"]}>
          {tenants.map((t) => (
            <tr key={t.tenant}>
              <td className={td}>
                <span className="font-medium">{t.name}</span> <span className="font-mono text-[11px] text-muted">{t.tenant}</span>
              </td>
              <td className={`${td} font-mono`}>{t.vni ?? "—"}</td>
              <td className={td}>{t.vlans.join(", ") || "—"}</td>
              <td className={td}>
                {t.hosts.map((h) => (
                  <div key={h.host} className={h.vniPresent ? "" : "text-crit"}>
                    <span className="font-medium">{h.host}</span>
                    {!h.vniPresent && " (VNI missing)"}: {h.vms.map((v) => v.name).join(", ") || "no VMs"}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </PlainTable>
      </Panel>
    </div>
  );
}
