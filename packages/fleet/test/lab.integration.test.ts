import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Operation } from "@nimbus/domain";
import { startLab, type Lab } from "@nimbus/lab";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent } from "../src/contract.js";
import { Fleet } from "../src/fleet.js";
import { MemoryKnownHosts, MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FAST_TIMING } from "./helpers/fleet-harness.js";
import { sshKeyPair } from "./helpers/keys.js";
import { eventually, hostState, nextEvent } from "./helpers/wait.js";

/** The fleet against the embedded lab's default scenario: real SSH endpoints on loopback, simulated hosts. */
let dataDir: string;
let lab: Lab;
const key = sshKeyPair();
const started: { fleets: Fleet[]; managers: OperationManager[] } = { fleets: [], managers: [] };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "nimbus-fleet-lab-"));
  lab = await startLab({ dataDir, clientPublicKeys: [key.public], speed: 10 });
});
afterAll(async () => {
  await lab?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const m of started.managers.splice(0)) await m.stop();
  for (const f of started.fleets.splice(0)) f.stop();
});

async function onlineFleet(knownHosts = new MemoryKnownHosts()) {
  const fleet = new Fleet({ hosts: lab.hosts, privateKey: key.private, knownHosts, connectTimeoutMs: 1_000, timing: FAST_TIMING });
  started.fleets.push(fleet);
  await fleet.start();
  return fleet;
}

async function operations(fleet: Fleet, store = new MemoryOperationStore()) {
  const vni = new Map(lab.tenants.map((t) => [t.slug, t.vni]));
  const ops = new OperationManager(fleet, store, { tenantVni: (t) => vni.get(t) ?? null, persistIntervalMs: 100 });
  started.managers.push(ops);
  await ops.start();
  return ops;
}

const runningOn = (fleet: Fleet, host: string) =>
  fleet.host(host)?.inventory.virt?.domains.filter((d) => d.state === "running").map((d) => d.name) ?? [];
const settled = (ops: OperationManager, id: string) => eventually(async () => { const op = await ops.get(id); return op && op.state !== "running" ? op : null; }, `operation ${id} to settle`, 20_000);

describe("fleet against the lab", () => {
  it("brings every host of the default scenario online with its inventory", async () => {
    const fleet = await onlineFleet();
    expect(fleet.hosts().map((h) => [h.name, h.connection.state])).toEqual(lab.hosts.map((h) => [h.name, "online"]));
    for (const h of fleet.hosts()) {
      expect(h.inventory.node?.hostname).toBeTruthy();
      expect(h.connection.pinnedKey).toBe(lab.hostKeyFingerprint(h.name));
    }
    expect(runningOn(fleet, "kvm1")).toContain("acme-web1");
    expect(fleet.hosts().some((h) => h.inventory.swarm?.role === "manager")).toBe(true);
    expect(fleet.hosts().some((h) => h.inventory.storage?.nfs?.vip?.heldHere)).toBe(true);
  });

  it("blocks a host whose key changed until the admin accepts it", async () => {
    const fleet = await onlineFleet();
    const pinned = lab.hostKeyFingerprint("nfs2");
    try {
      const blocked = hostState(fleet, "nfs2", "key-changed");
      await lab.faults.changeHostKey("nfs2");
      expect((await blocked).connection).toMatchObject({ pinnedKey: pinned, offeredKey: lab.hostKeyFingerprint("nfs2") });
      const online = hostState(fleet, "nfs2", "online");
      await fleet.acceptHostKey("nfs2", lab.hostKeyFingerprint("nfs2"));
      expect((await online).connection.pinnedKey).toBe(lab.hostKeyFingerprint("nfs2"));
    } finally {
      await lab.faults.restoreHostKey("nfs2");
    }
  });

  it("marks a stopped host unreachable and brings it back with a fresh snapshot", async () => {
    const fleet = await onlineFleet();
    try {
      const down = hostState(fleet, "nfs2", "unreachable");
      lab.faults.stopHost("nfs2");
      expect((await down).connection.lastSeen).not.toBeNull();
      const back = nextEvent(fleet, (e) => e.type === "host" && e.host.name === "nfs2" && e.host.connection.state === "online", "nfs2 back online", 10_000);
      lab.faults.startHost("nfs2");
      const e = (await back) as Extract<FleetEvent, { type: "host" }>;
      expect(e.changed).toEqual(["connection", "node", "virt", "net", "swarm", "storage"]);
      expect(e.host.inventory.storage?.nfs).not.toBeNull();
    } finally {
      if (lab.faults.active().some((f) => f.fault === "stop-host")) lab.faults.startHost("nfs2");
    }
  });

  it("notices a cut management link and recovers when it is restored", async () => {
    const fleet = await onlineFleet();
    try {
      const down = hostState(fleet, "nfs1", "unreachable");
      lab.faults.cutLink("nfs1");
      await down;
      const back = hostState(fleet, "nfs1", "online", 10_000);
      lab.faults.restoreLink("nfs1");
      await back;
    } finally {
      lab.faults.restoreLink("nfs1");
    }
  });

  it("migrates acme-web1 from kvm1 to kvm2 with progress, ending on kvm2 only", async () => {
    const fleet = await onlineFleet();
    const ops = await operations(fleet);
    const seen: Operation[] = [];
    ops.subscribe((o) => seen.push(o));
    const op = await ops.startMigration({ instance: "acme-web1", destination: "kvm2" }, "alice");
    expect(op).toMatchObject({ state: "running", host: "kvm1", tenant: "acme" });
    expect(await settled(ops, op.id)).toMatchObject({ state: "succeeded", progress: { percent: 100 } });
    const percents = seen.flatMap((o) => (o.progress?.kind === "migrate" ? [o.progress.percent] : []));
    expect(percents.length).toBeGreaterThan(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    await eventually(() => runningOn(fleet, "kvm2").includes("acme-web1") && !runningOn(fleet, "kvm1").includes("acme-web1"), "acme-web1 on kvm2 only");
  });

  it("cancels a migration and leaves the VM on its source", async () => {
    const fleet = await onlineFleet();
    const ops = await operations(fleet);
    const op = await ops.startMigration({ instance: "globex-app1", destination: "kvm2" }, "alice");
    await ops.cancel(op.id);
    expect(await settled(ops, op.id)).toMatchObject({ state: "cancelled" });
    await eventually(() => runningOn(fleet, "kvm1").includes("globex-app1") && !runningOn(fleet, "kvm2").includes("globex-app1"), "globex-app1 still on kvm1 only");
  });

  it("scales a service until it converges", async () => {
    const fleet = await onlineFleet();
    const ops = await operations(fleet);
    const op = await ops.startScale({ service: "api", replicas: 4 }, "alice");
    expect(await settled(ops, op.id)).toMatchObject({ state: "succeeded", progress: { kind: "scale", desired: 4, running: 4 } });
    await eventually(() => fleet.host(op.host)?.inventory.swarm?.services.find((s) => s.name === "api")?.replicasRunning === 4, "inventory to show 4 api replicas");
  });

  it("after a server restart, settles a migration that ended while the server was away", async () => {
    const store = new MemoryOperationStore();
    const fleet = await onlineFleet();
    const ops = await operations(fleet, store);
    const op = await ops.startMigration({ instance: "globex-app2", destination: "kvm1" }, "alice");
    await ops.stop();
    fleet.stop();
    await eventually(() => lab.world.hypervisor("kvm1").domains.get("globex-app2")?.state === "running" && !lab.world.hypervisor("kvm2").domains.has("globex-app2"), "the lab to finish the migration", 20_000);
    expect((await store.get(op.id))?.state).toBe("running");

    const fleet2 = await onlineFleet();
    const ops2 = await operations(fleet2, store);
    expect(await settled(ops2, op.id)).toMatchObject({ state: "succeeded", summary: "Migrate globex-app2 from kvm2 to kvm1" });
    await eventually(async () => (await store.get(op.id))?.state === "succeeded", "the settled state to be stored");
  });

  it("fails a migration whose destination is stopped mid-way; the VM stays on the source", async () => {
    const fleet = await onlineFleet();
    const ops = await operations(fleet);
    try {
      const op = await ops.startMigration({ instance: "initech-ci", destination: "kvm2" }, "alice");
      await eventually(() => ops.running().find((o) => o.id === op.id)?.progress, "first progress");
      lab.faults.stopHost("kvm2");
      const final = await settled(ops, op.id);
      expect(final.state).toBe("failed");
      expect(final.error).toMatch(/kvm2 is unreachable/);
      await eventually(() => runningOn(fleet, "kvm1").includes("initech-ci"), "initech-ci still running on kvm1");
    } finally {
      if (lab.faults.active().some((f) => f.fault === "stop-host" && f.target === "kvm2")) lab.faults.startHost("kvm2");
    }
  });
});
