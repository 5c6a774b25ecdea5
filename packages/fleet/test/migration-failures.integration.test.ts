import type { MigrationProgress } from "@nimbus/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { labHarness } from "./helpers/lab-harness.js";
import { silentLink } from "./helpers/silent-link.js";
import { eventually } from "./helpers/wait.js";

/**
 * Live migration against the embedded lab over real SSH, one test per way it can go wrong. Each
 * test finds where its VM runs now and moves it to the other hypervisor.
 */
let h: Awaited<ReturnType<typeof labHarness>>;
beforeAll(async () => {
  h = await labHarness(20);
});
afterEach(() => h.afterEach());
afterAll(() => h?.close());

const other = (host: string) => (host === "kvm1" ? "kvm2" : "kvm1");
const route = (vm: string) => ({ from: h.hostOf(vm), to: other(h.hostOf(vm)) });
const slow = { bandwidthMiBps: 40, maxDowntimeMs: null, autoConverge: false, postCopy: false };
const percentsOf = (seen: ReturnType<typeof h.track>, id: string) =>
  seen.filter((s) => s.op.id === id && s.op.progress?.kind === "migrate").map((s) => ({ at: s.at, p: s.op.progress as MigrationProgress }));

describe("live migration over the lab", () => {
  it("reports progress at least once a second that never runs backwards, and records the measured downtime", async () => {
    const { fleet, ops } = await h.server();
    const seen = h.track(ops);
    const { from, to } = route("acme-web1");
    const op = await ops.startMigration({ instance: "acme-web1", destination: to }, "alice");
    const final = await h.settled(ops, op.id);
    expect(final).toMatchObject({ state: "succeeded", error: null, progress: { phase: "done", percent: 100 } });
    expect((final.progress as MigrationProgress).downtimeMs).toBeGreaterThan(0);
    const updates = percentsOf(seen, op.id);
    expect(updates.length).toBeGreaterThan(5);
    for (let i = 1; i < updates.length; i++) {
      expect(updates[i]!.p.percent).toBeGreaterThanOrEqual(updates[i - 1]!.p.percent);
      expect(updates[i]!.at - updates[i - 1]!.at).toBeLessThan(1_000);
    }
    await eventually(() => h.runningOn(fleet, to).includes("acme-web1") && !h.runningOn(fleet, from).includes("acme-web1"), "acme-web1 on the destination only");
  });

  it("destination dies mid-way: fails with the reason, the VM runs on the source only", async () => {
    const { fleet, ops } = await h.server();
    const { from, to } = route("globex-app1");
    const op = await ops.startMigration({ instance: "globex-app1", destination: to, options: slow }, "alice");
    try {
      await eventually(() => ops.running().find((o) => o.id === op.id)?.progress, "first progress");
      h.lab.faults.stopHost(to);
      const final = await h.settled(ops, op.id);
      expect(final).toMatchObject({ state: "failed", error: `migration of globex-app1 to ${to} failed: ${to} is unreachable (host is down); globex-app1 still runs on ${from}` });
      await eventually(() => h.runningOn(fleet, from).includes("globex-app1"), "globex-app1 still on the source");
    } finally {
      h.lab.faults.startHost(to);
    }
  });

  it("the source's link is cut mid-way: reconciled once it is back, the VM runs on the source only", async () => {
    const { fleet, ops } = await h.server();
    const { from, to } = route("initech-ci");
    const op = await ops.startMigration({ instance: "initech-ci", destination: to, options: slow }, "alice");
    try {
      await eventually(() => ops.running().find((o) => o.id === op.id)?.progress, "first progress");
      h.lab.faults.cutLink(from);
      await eventually(() => fleet.host(from)?.connection.state === "unreachable", `${from} unreachable`);
      // The migration stream used that link too: the job fails on the host while nobody listens.
      await eventually(() => h.lab.world.jobsOf(from).list().find((j) => j.id === op.id)?.state === "failed", "the job to fail on the host");
      // The server cannot hear the agent: the operation stays running, neither won nor lost.
      expect((await ops.get(op.id))?.state).toBe("running");
      h.lab.faults.restoreLink(from);
      const final = await h.settled(ops, op.id);
      expect(final).toMatchObject({ state: "failed", error: `migration of initech-ci to ${to} failed: ${from} lost its network link; initech-ci still runs on ${from}` });
      await eventually(() => h.runningOn(fleet, from).includes("initech-ci") && !h.runningOn(fleet, to).includes("initech-ci"), "initech-ci on the source only");
    } finally {
      h.lab.faults.restoreLink(from);
    }
  });

  it("the server's SSH link to the source drops mid-way: it reconnects, finds the job still running and follows it to success", async () => {
    const { from, to } = route("initech-files");
    const link = await silentLink(h.lab.hosts.find((c) => c.name === from)!);
    try {
      const { fleet, ops } = await h.server(undefined, { [from]: link });
      const states: string[] = [];
      fleet.subscribe((e) => void (e.type === "host" && e.host.name === from && e.changed.includes("connection") && states.push(e.host.connection.state)));
      const op = await ops.startMigration({ instance: "initech-files", destination: to, options: slow }, "alice");
      await eventually(() => ops.running().find((o) => o.id === op.id)?.progress, "first progress");
      link.drop();
      await eventually(() => states.includes("unreachable") && fleet.host(from)?.connection.state === "online", `${from} lost and back`);
      // Back online while the VM is still copying: the operation is neither won nor lost.
      expect(h.lab.world.jobsOf(from).list().find((j) => j.id === op.id)?.state).toBe("running");
      expect((await ops.get(op.id))?.state).toBe("running");
      const final = await h.settled(ops, op.id, 30_000);
      expect(final).toMatchObject({ state: "succeeded", error: null, summary: `Migrate initech-files from ${from} to ${to}`, progress: { phase: "done", percent: 100 } });
      await eventually(() => h.runningOn(fleet, to).includes("initech-files") && !h.runningOn(fleet, from).includes("initech-files"), "initech-files on the destination only");
    } finally {
      await link.close();
    }
  });

  it("cancelled while copying: the VM runs on the source only, the reason says so", async () => {
    const { fleet, ops } = await h.server();
    const { from, to } = route("acme-web2");
    const op = await ops.startMigration({ instance: "acme-web2", destination: to, options: slow }, "alice");
    await eventually(() => (ops.running().find((o) => o.id === op.id)?.progress as MigrationProgress | null)?.phase === "copying", "copying");
    await ops.cancel(op.id);
    const final = await h.settled(ops, op.id);
    expect(final).toMatchObject({ state: "cancelled", error: `migration of acme-web2 to ${to} cancelled; acme-web2 still runs on ${from}` });
    expect(h.runningOn(fleet, from)).toContain("acme-web2");
    expect(h.runningOn(fleet, to)).not.toContain("acme-web2");
  });

  it("the server restarts mid-migration: the new server follows the job to its end", async () => {
    const first = await h.server();
    const { from, to } = route("globex-app2");
    const op = await first.ops.startMigration({ instance: "globex-app2", destination: to, options: slow }, "alice");
    await eventually(() => first.ops.running().find((o) => o.id === op.id)?.progress, "first progress");
    await first.ops.stop();
    first.fleet.stop();

    const fleet = await h.fleet();
    const ops = await h.operations(fleet, first.store);
    const seen = h.track(ops);
    const final = await h.settled(ops, op.id, 30_000);
    expect(final).toMatchObject({ state: "succeeded", summary: `Migrate globex-app2 from ${from} to ${to}`, progress: { percent: 100 } });
    expect(percentsOf(seen, op.id).length).toBeGreaterThan(1);
    await eventually(() => h.runningOn(fleet, to).includes("globex-app2") && !h.runningOn(fleet, from).includes("globex-app2"), "globex-app2 on the destination only");
    expect((await first.store.get(op.id))?.state).toBe("succeeded");
  });
});

describe("a migration that cannot work never starts", () => {
  const refused = async (start: Promise<unknown>) => start.then(() => null, (e: Error & { code: string }) => e);

  it("not enough RAM on the destination: refused with the memory check", async () => {
    const { fleet, ops } = await h.server();
    const { to } = route("acme-db");
    const hv = h.lab.world.hypervisor(to);
    const original = hv.hardware;
    try {
      hv.hardware = { ...original, memoryMiB: 16_000 };
      h.lab.world.changed(to, "node");
      await eventually(() => fleet.host(to)?.inventory.node?.memoryTotalMiB === 16_000, "the inventory to show the smaller host");
      const err = await refused(ops.startMigration({ instance: "acme-db", destination: to }, "alice"));
      expect(err).toMatchObject({ code: "PRECONDITION_FAILED", message: expect.stringMatching(/needs 8192 MiB; 0 MiB free after 512 MiB headroom/) });
      expect(await ops.list({ limit: 50, target: { type: "instance", name: "acme-db" } })).toEqual([]);
    } finally {
      hv.hardware = original;
      h.lab.world.changed(to, "node");
    }
  });

  it("not enough RAM that the inventory does not show yet: the destination's agent refuses", async () => {
    const { ops } = await h.server();
    const { to } = route("acme-db");
    const hv = h.lab.world.hypervisor(to);
    const original = hv.hardware;
    try {
      // Changed behind the server's back: no section is pushed, the inventory still says 64 GiB.
      hv.hardware = { ...original, memoryMiB: 24_000 };
      const err = await refused(ops.startMigration({ instance: "acme-db", destination: to }, "alice"));
      expect(err?.message).toMatch(new RegExp(`needs 8192 MiB; ${to} has \\d+ MiB free after 512 MiB headroom`));
      expect(h.hostOf("acme-db")).toBe(other(to));
    } finally {
      hv.hardware = original;
    }
  });

  it("the destination lacks the VM's VLAN: refused with the NIC check", async () => {
    const { fleet, ops } = await h.server();
    const { to } = route("globex-app1");
    try {
      h.lab.faults.removeVlan(to, 20);
      await eventually(() => !fleet.host(to)?.inventory.net?.bridges.find((b) => b.type === "ovs")?.ports.some((p) => p.trunks.includes(20)), "the inventory to lose VLAN 20");
      const err = await refused(ops.startMigration({ instance: "globex-app1", destination: to }, "alice"));
      expect(err).toMatchObject({ code: "PRECONDITION_FAILED", message: `cannot migrate globex-app1 to ${to}: VLAN 20 is not carried by any trunk of br-ovs on ${to}` });
    } finally {
      h.lab.faults.restoreVlan(to, 20);
    }
  });

  it("a VLAN removed behind the server's back: the destination's agent refuses", async () => {
    const { ops } = await h.server();
    const { to } = route("globex-app1");
    const trunk = h.lab.world.hypervisor(to).trunkVlans;
    try {
      trunk.delete(20);
      const err = await refused(ops.startMigration({ instance: "globex-app1", destination: to }, "alice"));
      expect(err?.message).toBe(`cannot migrate globex-app1 to ${to}: VLAN 20 is not carried by any trunk of br-ovs on ${to}`);
      expect(err).toMatchObject({ details: { checks: [expect.objectContaining({ id: expect.stringMatching(/^agent-net-/) })] } });
    } finally {
      trunk.add(20);
    }
  });

  it("a disk the destination does not mount: storage migration needed", async () => {
    const { fleet, ops } = await h.server();
    const { to } = route("initech-files");
    try {
      h.lab.faults.unmountDatastore(to, "/instance");
      await eventually(() => !fleet.host(to)?.inventory.storage?.mounts.some((m) => m.target === "/instance"), "the inventory to lose /instance");
      const err = await refused(ops.startMigration({ instance: "initech-files", destination: to }, "alice"));
      expect(err?.message).toBe(`cannot migrate initech-files to ${to}: storage migration needed: /instance/initech-files.qcow2 not on a datastore mounted on ${to}`);
    } finally {
      h.lab.faults.mountDatastore(to, "/instance");
    }
  });

  it("a mount lost behind the server's back: the destination's agent says storage migration needed", async () => {
    const { ops } = await h.server();
    const { to } = route("initech-files");
    const hv = h.lab.world.hypervisor(to);
    const mounts = hv.mounts;
    try {
      hv.mounts = mounts.filter((m) => m.target !== "/instance");
      const err = await refused(ops.startMigration({ instance: "initech-files", destination: to }, "alice"));
      expect(err?.message).toBe(`cannot migrate initech-files to ${to}: storage migration needed: /instance/initech-files.qcow2 not visible on ${to}`);
    } finally {
      hv.mounts = mounts;
    }
  });
});
