/**
 * `npx tsx scripts/health-sample-bench.ts`: what one `HealthMonitor.sample` costs on a 2,000-host
 * fleet held in memory (4 VMs each, an NFS pair every hypervisor mounts, two swarm managers), when
 * nothing changed, when one host changed and when 100 hosts changed since the previous sample.
 * A change replaces the host's record and virt section, as the fleet's host connections do: one VM
 * flips between running and shutoff, which changes what the host's agent check affects.
 * BENCH_SAMPLES (400) samples per case, after as many to warm the JIT up.
 */
import type { HostRecord } from "@nimbus/domain";
import { HealthMonitor } from "../src/services/health-monitor.js";
import { healthFleet } from "../test/health-fleet.js";

const HOSTS = 2000;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);

/** Replaces host i's record the way a pushed virt section does: a new record, section and list. */
function flipVm(hosts: HostRecord[], i: number) {
  const h = hosts[i]!;
  const domains = h.inventory.virt!.domains.map((d, j) => (j === 0 ? { ...d, state: d.state === "running" ? ("shutoff" as const) : ("running" as const) } : d));
  hosts[i] = { ...h, inventory: { ...h.inventory, virt: { ...h.inventory.virt!, domains } } };
}

function measure(label: string, changedPerSample: number) {
  const { hosts, fleet } = healthFleet(HOSTS, 4);
  const monitor = new HealthMonitor(fleet);
  let t = Date.parse("2026-01-01T00:00:00Z");
  let next = 0;
  const step = () => {
    for (let k = 0; k < changedPerSample; k++) flipVm(hosts, next++ % HOSTS);
    t += 1000;
    monitor.sample(new Date(t).toISOString());
  };
  for (let i = 0; i < SAMPLES; i++) step();
  let spent = 0;
  for (let i = 0; i < SAMPLES; i++) {
    // The mutation is the fleet's cost, not the sample's: time the sample only.
    for (let k = 0; k < changedPerSample; k++) flipVm(hosts, next++ % HOSTS);
    t += 1000;
    const at = new Date(t).toISOString();
    const before = performance.now();
    monitor.sample(at);
    spent += performance.now() - before;
  }
  console.log(`  ${label.padEnd(22)} ${((spent / SAMPLES) * 1000).toFixed(0).padStart(7)} µs per sample  (${monitor.checks().length} checks)`);
}

console.log(`${HOSTS} hosts x 4 VMs + NFS pair + 2 swarm managers, ${SAMPLES} samples per case`);
measure("nothing changed", 0);
measure("one host changed", 1);
measure("100 hosts changed", 100);
