/**
 * How long the topology pipeline takes on a big fleet: by default 50 hosts x 20 VMs, three
 * tenants on a full VXLAN mesh (7,350 tunnel ports). Run from packages/domain:
 *   npx tsx scripts/topology-bench.ts [hosts] [vmsPerHost]
 * or, to collect garbage between runs so one step does not pay for the previous one's garbage:
 *   node --expose-gc --import tsx scripts/topology-bench.ts
 * Prints the median wall and CPU time of several runs after a warm-up. The target is well under
 * 50 ms to build. On a shared 2-core machine other processes inflate wall time: CPU time is the
 * steadier figure.
 */
import { buildTopology, findings, mapGraph, scopeTopology, tenantTable, vlanTable, vniTable, type Topology } from "../src/index.js";
import { LAB_TENANTS, labFleet } from "../test/topology/fixtures.js";

const hostCount = Number(process.argv[2] ?? 50);
const vmsPerHost = Number(process.argv[3] ?? 20);
const RUNS = 15;

const collectGarbage = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `prepare` runs untimed before each run, so cached indexes never flatter a figure. */
function measure<T>(prepare: () => T, fn: (input: T) => unknown): { wall: number; cpu: number } {
  fn(prepare()); // warm-up: JIT, so the figure reflects steady state
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const input = prepare();
    collectGarbage?.();
    const c = process.cpuUsage();
    const w = performance.now();
    fn(input);
    wall.push(performance.now() - w);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const hosts = labFleet(hostCount, vmsPerHost);
const fresh = (): Topology => buildTopology(hosts, LAB_TENANTS);
const topology = fresh();
const problems = findings(topology);
const graph = mapGraph(topology, { expanded: new Set(), findings: problems });
const vms = topology.hosts.reduce((s, h) => s + h.vms.length, 0);
console.log(`${hostCount} hosts, ${vms} VMs, ${topology.tunnels.length} tunnel ports, ${problems.length} findings`);
console.log(`map: ${graph.nodes.length} nodes, ${graph.edges.length} edges (groups collapsed)\n`);

const rows: [string, () => { wall: number; cpu: number }][] = [
  ["buildTopology", () => measure(() => hosts, (h) => buildTopology(h, LAB_TENANTS))],
  ["findings", () => measure(fresh, (t) => findings(t))],
  ["vlan + vni + tenant tables", () => measure(fresh, (t) => [vlanTable(t), vniTable(t), tenantTable(t)])],
  ["scopeTopology (one tenant)", () => measure(fresh, (t) => scopeTopology(t, "acme"))],
  ["mapGraph (collapsed, badges)", () => measure(fresh, (t) => mapGraph(t, { expanded: new Set(), findings: problems }))],
  ["mapGraph (tenant filter)", () => measure(fresh, (t) => mapGraph(t, { filter: { tenant: "acme" } }))],
  [
    "build + findings + map",
    () =>
      measure(
        () => hosts,
        (h) => {
          const t = buildTopology(h, LAB_TENANTS);
          mapGraph(t, { expanded: new Set(), findings: findings(t) });
        },
      ),
  ],
];
console.log(`${"step".padEnd(32)} ${"wall ms".padStart(9)} ${"cpu ms".padStart(9)}`);
for (const [name, run] of rows) {
  const { wall, cpu } = run();
  console.log(`${name.padEnd(32)} ${wall.toFixed(2).padStart(9)} ${cpu.toFixed(2).padStart(9)}`);
}
