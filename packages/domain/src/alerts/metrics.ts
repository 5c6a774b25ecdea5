import type { HostRecord } from "../fleet.js";
import { storageServersOverview } from "../overviews.js";
import type { MetricSample } from "./evaluate.js";

/** A host's samples as last made, with what they were made from (sections are replaced, never edited). */
interface HostSamples {
  name: string;
  virt: unknown;
  samples: MetricSample[];
}
const madeFrom = new WeakMap<object, HostSamples>();

/** One online host's samples: the same objects while its node section, VM section and name are the same. */
function hostSamples(h: HostRecord, n: NonNullable<HostRecord["inventory"]["node"]>): MetricSample[] {
  const virt = h.inventory.virt;
  const kept = madeFrom.get(n);
  if (kept && kept.name === h.name && kept.virt === virt) return kept.samples;
  const affects = (virt?.domains ?? []).filter((d) => d.state === "running").map((d) => d.name);
  const samples: MetricSample[] = [{ metric: "host.cpuPct", subject: h.name, target: `${h.name} CPU`, value: n.cpuUsagePct, affects }];
  if (n.memoryTotalMiB > 0) samples.push({ metric: "host.memoryPct", subject: h.name, target: `${h.name} memory`, value: (100 * n.memoryUsedMiB) / n.memoryTotalMiB, affects });
  if (n.diskTotalBytes > 0) samples.push({ metric: "host.diskPct", subject: h.name, target: `${h.name} disk`, value: (100 * n.diskUsedBytes) / n.diskTotalBytes, affects });
  madeFrom.set(n, { name: h.name, virt, samples });
  return samples;
}

/**
 * The numbers metric rules read, from what hosts pushed: each online host's CPU, memory and root
 * disk, each datastore's use (as its exporting server reports it). A host that stopped answering
 * has no current numbers, so it yields none (host-down covers it). A host's samples are made again
 * only when its node or VM section was replaced (the alert round reads 2,000 hosts every 2 s; most
 * pushed nothing new since): treat them as read-only.
 */
export function metricSamples(hosts: readonly HostRecord[]): MetricSample[] {
  const out: MetricSample[] = [];
  for (const h of hosts) {
    const n = h.inventory.node;
    if (!n || h.connection.state !== "online") continue;
    for (const s of hostSamples(h, n)) out.push(s);
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
