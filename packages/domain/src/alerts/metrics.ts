import type { HostRecord } from "../fleet.js";
import { storageServersOverview } from "../overviews.js";
import type { MetricSample } from "./evaluate.js";

/**
 * The numbers metric rules read, from what hosts pushed: each online host's CPU, memory and root
 * disk, each datastore's use (as its exporting server reports it). A host that stopped answering
 * has no current numbers, so it yields none (host-down covers it).
 */
export function metricSamples(hosts: readonly HostRecord[]): MetricSample[] {
  const out: MetricSample[] = [];
  for (const h of hosts) {
    const n = h.inventory.node;
    if (!n || h.connection.state !== "online") continue;
    const affects = (h.inventory.virt?.domains ?? []).filter((d) => d.state === "running").map((d) => d.name);
    out.push({ metric: "host.cpuPct", subject: h.name, target: `${h.name} CPU`, value: n.cpuUsagePct, affects });
    if (n.memoryTotalMiB > 0) out.push({ metric: "host.memoryPct", subject: h.name, target: `${h.name} memory`, value: (100 * n.memoryUsedMiB) / n.memoryTotalMiB, affects });
    if (n.diskTotalBytes > 0) out.push({ metric: "host.diskPct", subject: h.name, target: `${h.name} disk`, value: (100 * n.diskUsedBytes) / n.diskTotalBytes, affects });
  }
  const storage = storageServersOverview(hosts);
  if (storage.datastores.length) {
    const mountedBy = hosts.filter((h) => h.inventory.storage?.mounts.length).map((h) => h.name);
    for (const d of storage.datastores) {
      if (!d.totalBytes) continue;
      out.push({ metric: "datastore.usedPct", subject: d.path, target: `datastore ${d.path}`, value: d.usedPct, affects: mountedBy });
    }
  }
  return out;
}
