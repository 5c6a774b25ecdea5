import type { Domain, InstanceView } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { Facts, Panel } from "@/components/ui/panel";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { formatBytes, formatMiB } from "@/lib/format";

/** One VM's definition: what it is given, where its disks live, which networks it is on. */
export function InstanceDetail({
  instance,
  domain,
  linkHosts,
  diskAction,
}: {
  instance: InstanceView;
  domain: Domain;
  linkHosts: boolean;
  /** A control at the end of each disk's row (Move… for those who may move disks). */
  diskAction?: (disk: Domain["disks"][number]) => ReactNode;
}) {
  return (
    <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
      <Panel title="Definition">
        <Facts
          items={[
            ...hostFact(instance.host, linkHosts),
            ["Tenant", instance.tenant ?? "infrastructure"],
            ["vCPUs", String(domain.vcpus)],
            ["Memory", formatMiB(domain.memoryMiB)],
            ["CPU model", domain.cpuModel ?? "default"],
            ["Role", domain.role ?? "—"],
            ["VLANs", instance.vlans.join(", ") || "untagged"],
            ["VNI", instance.vni !== null ? String(instance.vni) : "—"],
            ["IP addresses", instance.ipAddresses.join(", ") || "—"],
            ["Autostart", domain.autostart ? "yes" : "no"],
            ["UUID", <span key="u" className="font-mono text-[11.5px]">{domain.uuid}</span>],
            ["Persistent", domain.persistent ? "yes" : "no (transient)"],
          ]}
        />
      </Panel>
      <div className="flex flex-col gap-4">
        <Panel title="Disks" bodyClass="p-0">
          <SimpleTable
            head={diskAction ? ["Target", "Path", "Pool", "Size", ""] : ["Target", "Path", "Pool", "Size"]}
            phoneHidden={[2, 3]}
            rows={domain.disks.map((d) => [
              d.target,
              <span key="p" className="font-mono text-[12px]">{d.path}</span>,
              d.pool ?? "—",
              formatBytes(d.capacityBytes),
              ...(diskAction ? [<span key="a" className="flex justify-end">{diskAction(d)}</span>] : []),
            ])}
            empty="No disks"
          />
        </Panel>
        <Panel title="Network interfaces" bodyClass="p-0">
          <SimpleTable
            head={["MAC", "Bridge", "VLAN", "Device", "IP"]}
            phoneHidden={[1, 3]}
            rows={domain.nics.map((n) => [
              <span key="m" className="font-mono text-[12px]">{n.mac}</span>,
              n.bridge ? `${n.bridge} (${n.bridgeType})` : "—",
              n.vlan ?? "untagged",
              n.device ?? "—",
              n.ipAddresses.join(", ") || "—",
            ])}
            empty="No network interfaces"
          />
        </Panel>
      </div>
    </div>
  );
}

/** `phoneHidden`: columns left out on a phone, so what matters (path, Move…) stays in view. */
function SimpleTable({ head, rows, empty, phoneHidden }: { head: string[]; rows: React.ReactNode[][]; empty: string; phoneHidden: number[] }) {
  if (!rows.length) return <p className="p-4 text-[13px] text-muted">{empty}</p>;
  return (
    <PlainTable head={head} phoneHidden={phoneHidden}>
      {rows.map((r, i) => (
        <tr key={i}>
          {r.map((cell, j) => (
            <td key={j} className={`${plainCell} whitespace-nowrap tabular-nums ${phoneHidden.includes(j) ? phoneHiddenCell : ""}`}>
              {cell}
            </td>
          ))}
        </tr>
      ))}
    </PlainTable>
  );
}

/** Staff see the host (linked); tenants get an opaque token, so the fact is left out. */
function hostFact(host: string, linkHosts: boolean): [string, React.ReactNode][] {
  if (!linkHosts) return [];
  return [
    [
      "Host",
      <Link key="h" href={`/hosts/${encodeURIComponent(host)}`} className="hover:text-accent hover:underline">
        {host}
      </Link>,
    ],
  ];
}
