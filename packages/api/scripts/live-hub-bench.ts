/**
 * `npx tsx scripts/live-hub-bench.ts`: the server's cost of one second of a 2,000-host fleet on
 * the live channel (every host's CPU figure every 5 s, one datastore usage change that also moves
 * its health check, one health sample), with no browser and with one staff browser reading.
 * BENCH_SECONDS (20), BENCH_ROUNDS (2), BENCH_BY_TYPE=1 prints the bytes sent per event type.
 */
import type { HostRecord, TenantInfo, Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import { LiveHub } from "../src/services/live-hub.js";
import { HealthMonitor } from "../src/services/health-monitor.js";
import type { TenantService } from "../src/deps.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

const HOSTS = 2000;
const tenantsList = ["acme", "globex", "initech"];
function makeFleet() {
  const hosts: HostRecord[] = Array.from({ length: HOSTS }, (_, i) =>
    hypervisor(`kvm${i}`, Array.from({ length: 4 }, (_, j) => vm({ name: `vm-${i}-${j}`, uuid: `u-${i}-${j}`, tenant: tenantsList[(i + j) % 3]! }))),
  );
  for (const [name, held] of [["nfs1", true], ["nfs2", false]] as const) {
    const h = hypervisor(name);
    h.inventory.storage = {
      mounts: [],
      nfs: { serverRunning: true, exports: [{ path: "/instance", clients: ["*"] }], datastores: [{ path: "/instance", totalBytes: 100, usedBytes: 40 }], vip: { address: "10.10.0.100", heldHere: held }, keepalivedState: held ? "master" : "backup" },
    };
    hosts.push(h);
  }
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const listeners = new Set<(e: FleetEvent) => void>();
  const fleet = { hosts: () => hosts, host: (n: string) => byName.get(n), subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)) } as unknown as FleetView;
  const emit = (h: HostRecord, changed: ("node" | "storage")[]) => {
    for (const l of listeners) l({ type: "host", host: h, changed });
  };
  return { hosts, byName, fleet, emit };
}

const directory = new Map<string, TenantInfo>(tenantsList.map((slug, i) => [slug, { slug, name: slug, vni: 5001 + i }]));
const tenants = { directory: () => directory } as unknown as TenantService;
const staff: Viewer = { userId: "s", name: "S", role: "oncall", tenant: null };
const byType = new Map<string, number>();
const none = { subscribe: () => () => {} };

async function measure(label: string, browser: boolean) {
  const { hosts, byName, fleet, emit } = makeFleet();
  const monitor = new HealthMonitor(fleet);
  // Flushed by hand below, at the pace of the server's 15 ms coalescing.
  const hub = new LiveHub(fleet, tenants, { coalesceMs: 1e9 });
  hub.attach({ operations: none, topology: none, health: monitor });
  let bytes = 0;
  const ac = new AbortController();
  if (browser) {
    void (async () => {
      // What the SSE link does per message: serialize it.
      for await (const msg of hub.stream(staff, null, ac.signal)) {
        const n = JSON.stringify(msg.event).length;
        bytes += n;
        if (process.env.BENCH_BY_TYPE) byType.set(msg.event.type, (byType.get(msg.event.type) ?? 0) + n);
      }
    })();
  }
  const flush = () => (hub as unknown as { flush(): void }).flush();
  const nfs1 = byName.get("nfs1")!;
  let t = Date.parse("2026-01-01T00:00:00Z");
  monitor.sample(new Date(t).toISOString());
  flush();
  await new Promise((r) => setImmediate(r));
  const warmup = 5;
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  let cpu = 0;
  let healthStep = 0;
  for (let s = -warmup; s < seconds; s++) {
    if (s === 0) bytes = 0;
    const start = process.cpuUsage();
    // 400 CPU updates in 15 ms flushes (~6 each), one datastore change, one health sample.
    for (let i = 0; i < 400; i++) {
      const h = hosts[(s * 400 + i + HOSTS) % HOSTS]!;
      h.inventory.node = { ...h.inventory.node!, cpuUsagePct: (s * 7 + i + 700) % 100 };
      emit(h, ["node"]);
      if (i % 6 === 5) flush();
    }
    nfs1.inventory.storage!.nfs!.datastores[0]!.usedBytes = 41 + (s % 2);
    emit(nfs1, ["storage"]);
    flush();
    t += 1000;
    // The sample that moves the datastore's check ("41 % used"), and its delivery.
    const before = performance.now();
    monitor.sample(new Date(t).toISOString());
    await new Promise((r) => setImmediate(r));
    const step = performance.now() - before;
    const used = process.cpuUsage(start);
    if (s < 0) continue;
    cpu += (used.user + used.system) / 1000;
    healthStep += step;
  }
  ac.abort();
  hub.detach();
  console.log(
    `  ${label.padEnd(30)} ${(cpu / seconds).toFixed(1).padStart(6)} ms CPU/s  ${(bytes / seconds / 1024).toFixed(0).padStart(5)} KiB/s sent  health sample + delivery ${(healthStep / seconds).toFixed(1).padStart(5)} ms`,
  );
}

console.log(`${HOSTS} hosts x 4 VMs, one simulated second = 400 CPU updates + 1 datastore change + 1 health sample`);
// The first round warms the JIT up; later rounds are the figures to compare.
for (let round = 0; round < Number(process.env.BENCH_ROUNDS ?? 2); round++) {
  for (const browser of [false, true]) await measure(browser ? "one staff browser" : "no browser", browser);
}
if (process.env.BENCH_BY_TYPE) console.log(byType);
process.exit(0);
