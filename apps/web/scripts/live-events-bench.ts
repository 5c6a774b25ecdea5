/**
 * `npx tsx scripts/live-events-bench.ts`: what one second of host CPU updates at fleet size
 * (2,000 hosts, each every 5 s: 400 summaries a second) costs the browser's cache, delivered as
 * one event per host or batched per server flush (15 ms: ~6 summaries an event). No React here:
 * this is the cache patching alone, a lower bound of the per-event cost.
 */
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@nimbus/api";
import type { HostSummary, LiveEvent } from "@nimbus/domain";
import { hostSummaries } from "../src/fixtures/views";
import { applyLiveEvent } from "../src/lib/queries";

const HOSTS = 2000;
const PER_SECOND = 400;
const template = hostSummaries[0]!;
const fleet: HostSummary[] = Array.from({ length: HOSTS }, (_, i) => ({ ...template, name: `kvm${String(i).padStart(4, "0")}` }));

function run(label: string, events: LiveEvent[], withHostsList: boolean) {
  const qc = new QueryClient();
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: createTRPCClient<AppRouter>({ links: [] }), queryClient: qc });
  if (withHostsList) qc.setQueryData(trpc.hosts.list.queryKey(), fleet);
  // Observers stand in for mounted pages: each cache write notifies them.
  qc.getQueryCache().subscribe(() => {});
  const rounds = 20;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const ev of events) applyLiveEvent(qc, trpc, ev);
  const ms = (performance.now() - start) / rounds;
  console.log(`  ${label.padEnd(52)} ${ms.toFixed(2).padStart(7)} ms per second of updates`);
  qc.clear();
}

const second = fleet.slice(0, PER_SECOND).map((s, i) => ({ ...s, cpuUsagePct: i % 100 }));
const single: LiveEvent[] = second.map((s) => ({ type: "hosts", summaries: [s] }));
const batched: LiveEvent[] = [];
for (let i = 0; i < second.length; i += 6) batched.push({ type: "hosts", summaries: second.slice(i, i + 6) });

console.log(`${PER_SECOND} host summaries a second, ${HOSTS} hosts`);
for (const withList of [false, true]) {
  const where = withList ? "Hosts page open" : "Hosts page not loaded";
  run(`one event per host (${where})`, single, withList);
  run(`batched per flush (${where})`, batched, withList);
}
process.exit(0);
