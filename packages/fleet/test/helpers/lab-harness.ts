import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Operation } from "@nimbus/domain";
import { startLab, type Lab } from "@nimbus/lab";
import { Fleet } from "../../src/fleet.js";
import { MemoryKnownHosts, MemoryOperationStore } from "../../src/memory-stores.js";
import { OperationManager } from "../../src/operations.js";
import { FAST_TIMING } from "./fleet-harness.js";
import { sshKeyPair } from "./keys.js";
import { eventually } from "./wait.js";

/**
 * The embedded lab (default scenario) with fleets and operation managers over it, for one test
 * file. Fleets and managers made by a test are stopped after it; the lab after the file.
 */
export async function labHarness(speed = 20) {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-fleet-lab-"));
  const key = sshKeyPair();
  // No cosmetic CPU jitter: a section changes only when something happens, so a test can make
  // the server's inventory stale on purpose.
  const lab: Lab = await startLab({ dataDir, clientPublicKeys: [key.public], speed, world: { jitter: false } });
  const knownHosts = new MemoryKnownHosts();
  const started: { fleets: Fleet[]; managers: OperationManager[] } = { fleets: [], managers: [] };
  const vni = new Map(lab.tenants.map((t) => [t.slug, t.vni]));

  const h = {
    lab,
    /** `via` reaches some hosts through another address (a relay in front of their endpoint). */
    async fleet(via: Record<string, { address: string; port: number }> = {}) {
      const hosts = lab.hosts.map((c) => (via[c.name] ? { ...c, address: via[c.name]!.address, port: via[c.name]!.port } : c));
      const fleet = new Fleet({ hosts, privateKey: key.private, knownHosts, connectTimeoutMs: 1_000, timing: FAST_TIMING });
      started.fleets.push(fleet);
      await fleet.start();
      return fleet;
    },
    async operations(fleet: Fleet, store = new MemoryOperationStore()) {
      const ops = new OperationManager(fleet, store, { tenantVni: (t) => vni.get(t) ?? null, persistIntervalMs: 50, drainTimeoutMs: 10_000 });
      started.managers.push(ops);
      await ops.start();
      return ops;
    },
    /** Both ends of the server, as the app wires them. */
    async server(store = new MemoryOperationStore(), via: Record<string, { address: string; port: number }> = {}) {
      const fleet = await h.fleet(via);
      return { fleet, store, ops: await h.operations(fleet, store) };
    },
    settled: (ops: OperationManager, id: string, timeoutMs = 20_000) =>
      eventually(async () => {
        const op = await ops.get(id);
        return op && op.state !== "running" && op.state !== "pending" ? op : null;
      }, `operation ${id} to settle`, timeoutMs),
    runningOn: (fleet: Fleet, host: string) => fleet.host(host)?.inventory.virt?.domains.filter((d) => d.state === "running").map((d) => d.name) ?? [],
    /** Where the lab itself runs a VM now (the truth the server's inventory follows). */
    hostOf: (vm: string) => lab.world.vms.get(vm)!.host,
    track(ops: OperationManager) {
      const seen: { at: number; op: Operation }[] = [];
      ops.subscribe((op) => seen.push({ at: Date.now(), op }));
      return seen;
    },
    async afterEach() {
      for (const m of started.managers.splice(0)) await m.stop();
      for (const f of started.fleets.splice(0)) f.stop();
    },
    async close() {
      await h.afterEach();
      await lab.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
