/**
 * How long the topology pipeline takes on a big fleet: by default 50 hosts x 20 VMs, three
 * tenants on a full VXLAN mesh (7,350 tunnel ports). Run from packages/domain:
 *   npx tsx scripts/topology-bench.ts [hosts] [vmsPerHost]
 * or, to collect garbage between runs so one step does not pay for the previous one's garbage:
 *   node --expose-gc --import tsx scripts/topology-bench.ts
 * Prints the fastest and the median wall time of several runs after a warm-up, and the median CPU
 * time. The target is well under 50 ms to build. On a shared machine other processes inflate
 * the median; the fastest run is the closest to the code's own cost.
 */
import { buildTopology, findings, mapGraph, scopeTopology, tenantTable, vlanTable, vniTable, type Topology } from "../src/index.js";
import { LAB_TENANTS, labFleet } from "../test/topology/fixtures.js";

const hostCount = Number(process.argv[2] ?? 50);
const vmsPerHost = Number(process.argv[3] ?? 20);
const RUNS = 25;

const collectGarbage = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `prepare` runs untimed before each run, so cached indexes never flatter a figure. */
interface Timing {
  fastest: number;
  wall: number;
  cpu: number;
}

function measure<T>(prepare: () => T, fn: (input: T) => unknown): Timing {
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
  return { fastest: Math.min(...wall), wall: median(wall), cpu: median(cpu) };
}

const hosts = labFleet(hostCount, vmsPerHost);
const fresh = (): Topology => buildTopology(hosts, LAB_TENANTS);
const topology = fresh();
const problems = findings(topology);
const graph = mapGraph(topology, { expanded: new Set(), findings: problems });
const vms = topology.hosts.reduce((s, h) => s + h.vms.length, 0);
console.log(`${hostCount} hosts, ${vms} VMs, ${topology.tunnels.length} tunnel ports, ${problems.length} findings`);
console.log(`map: ${graph.nodes.length} nodes, ${graph.edges.length} edges (groups collapsed)\n`);

const rows: [string, () => Timing][] = [
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
const col = (x: number | string) => (typeof x === "number" ? x.toFixed(2) : x).padStart(10);
console.log(`${"step".padEnd(32)}${col("fastest ms")}${col("median ms")}${col("cpu ms")}`);
for (const [name, run] of rows) {
  const { fastest, wall, cpu } = run();
  console.log(`${name.padEnd(32)}${col(fastest)}${col(wall)}${col(cpu)}`);
}
