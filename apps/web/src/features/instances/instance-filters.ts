import type { InstanceView } from "@nimbus/domain";

/** Instances filter from the URL. Free text matches name, host, tenant, IP, MAC and disk path. */
export interface InstanceFilter {
  q: string;
  state: string;
  host: string;
  tenant: string;
}

export function filterInstances(list: readonly InstanceView[], f: InstanceFilter): InstanceView[] {
  const q = f.q.trim().toLowerCase();
  const vlanQuery = /^\d+$/.test(q) ? Number(q) : null;
  return list.filter((i) => {
    if (f.state && i.state !== f.state) return false;
    if (f.host && i.host !== f.host) return false;
    if (f.tenant && (i.tenant ?? "-") !== f.tenant) return false;
    if (!q) return true;
    if (vlanQuery !== null && (i.vlans.includes(vlanQuery) || i.vni === vlanQuery)) return true;
    return [i.name, i.host, i.tenant ?? "", i.role ?? "", ...i.ipAddresses, ...i.macs, ...i.diskPaths].some((s) => s.toLowerCase().includes(q));
  });
}

export const distinct = (values: (string | null)[]) => [...new Set(values.map((v) => v ?? "-"))].sort();
