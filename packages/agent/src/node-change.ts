import type { NodeFacts } from "@nimbus/domain";

/**
 * When a host's node facts are news. Both the real node driver and the lab's simulated hosts push
 * the node section only past these thresholds, so a simulated fleet sends what a real one would.
 */
const CPU_POINTS = 5;
const MEMORY_SHARE = 0.01;
const DISK_SHARE = 0.01;

export function meaningfulChange(a: NodeFacts, b: NodeFacts): boolean {
  const share = (x: number, y: number, total: number) => (total > 0 ? Math.abs(x - y) / total : 0);
  return (
    a.hostname !== b.hostname ||
    a.os !== b.os ||
    a.kernel !== b.kernel ||
    a.cpuCount !== b.cpuCount ||
    Math.abs(a.cpuUsagePct - b.cpuUsagePct) >= CPU_POINTS ||
    a.memoryTotalMiB !== b.memoryTotalMiB ||
    share(a.memoryUsedMiB, b.memoryUsedMiB, a.memoryTotalMiB) >= MEMORY_SHARE ||
    a.diskTotalBytes !== b.diskTotalBytes ||
    share(a.diskUsedBytes, b.diskUsedBytes, a.diskTotalBytes) >= DISK_SHARE
  );
}
