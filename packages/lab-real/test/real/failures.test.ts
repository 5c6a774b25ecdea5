import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { docker, runningTaskNodes, swarmNodeStates } from "../../src/docker.js";
import { GiveUp, waitFor } from "../../src/wait.js";
import { domainState, ensureVmOn, hostState, migrateToKvm2, openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";

/**
 * One named test per failure mode, each on real daemons, observed through the fleet as the
 * server sees it. Each test restores what it broke before it ends, so the lab stays usable.
 */
describe("real lab: failure modes", () => {
  let lab: RealLab;
  let fleet: Fleet;
  const hosts = ["kvm1", "kvm2", "swarm1", "nfs1", "nfs2"];

  beforeAll(async () => {
    lab = await openLab();
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
  });
  afterAll(() => fleet?.stop());

  it("host unreachable: a node whose sshd stops is reported unreachable, and returns when it is back", async () => {
    await lab.stop("kvm2", "sshd");
    await lab.stop("kvm2", "ssh-relay"); // cuts the live session too, as a dead host would
    try {
      const rec = await waitForHost(fleet, "kvm2", "unreachable", (h) => h.connection.state === "unreachable", 30_000);
      expect(rec.connection.message).toBeTruthy();
    } finally {
      await lab.start("kvm2", "sshd");
      await lab.start("kvm2", "ssh-relay");
    }
    await waitOnline(fleet, ["kvm2"]);
  });

  it("host key changed: a node offering another host key is blocked as key-changed, not trusted", async () => {
    const pinned = hostState(fleet, "nfs2").connection.pinnedKey;
    expect(pinned).toBeTruthy();
    await lab.regenerateHostKey("nfs2");
    try {
      await lab.stop("nfs2", "sshd");
      await lab.start("nfs2", "sshd");
      await lab.start("nfs2", "ssh-relay"); // drops the session that still uses the old key
      const rec = await waitForHost(fleet, "nfs2", "key-changed", (h) => h.connection.state === "key-changed", 30_000);
      expect(rec.connection.pinnedKey).toBe(pinned);
      expect(rec.connection.offeredKey).toBeTruthy();
      expect(rec.connection.offeredKey).not.toBe(pinned);
    } finally {
      await lab.restoreHostKey("nfs2");
      await lab.stop("nfs2", "sshd");
      await lab.start("nfs2", "sshd");
    }
    fleet.reconnect("nfs2");
    await waitOnline(fleet, ["nfs2"]);
  });

  it("destination libvirtd down: the migration fails and the VM keeps running on the source", async () => {
    const vm = "globex-db1";
    await ensureVmOn(lab, vm, "kvm1", "kvm2");
    await lab.stop("kvm2", "libvirtd");
    try {
      const { job } = await migrateToKvm2(lab, fleet, vm, "mig-dest-down");
      const final = await job.final();
      expect(final.state).toBe("failed");
      expect(final.error).toBeTruthy();
      expect(await domainState(lab, "kvm1", vm)).toBe("running");
    } finally {
      await lab.start("kvm2", "libvirtd");
    }
    expect(await domainState(lab, "kvm2", vm)).toBeNull();
  });

  it("migration aborted: job.cancel stops the migration and the VM stays on the source", async () => {
    const vm = "acme-web1";
    try {
      // 1 MiB/s keeps the copy running long enough to be cancelled mid-way.
      const { job, jobId } = await migrateToKvm2(lab, fleet, vm, "mig-abort", 1);
      await waitFor("the migration to report progress", () => {
        const ended = job.updates.find((j) => j.state !== "running");
        if (ended) throw new GiveUp(`the migration ended (${ended.state}: ${ended.error}) before it could be cancelled`);
        return job.updates.some((j) => j.progress !== null);
      }, { timeoutMs: 30_000 });
      await fleet.request("kvm1", "job.cancel", { jobId });
      const final = await job.final();
      expect(final.state).toBe("cancelled");
      expect(await domainState(lab, "kvm1", vm)).toBe("running");
      expect(await domainState(lab, "kvm2", vm)).toBeNull();
    } finally {
      await ensureVmOn(lab, vm, "kvm1", "kvm2");
    }
  });

  it("swarm node down: the manager marks it down and its tasks are rescheduled on the remaining worker", async () => {
    const manager = await lab.exec("swarm1");
    // The manager takes no new tasks (as managers often run none), so the replacement lands on
    // swarm2: the manager's agent must notice a task starting on another node.
    await docker(manager, ["node", "update", "--availability", "pause", "swarm1"]);
    await lab.stop("swarm3", "dockerd");
    try {
      await waitFor("swarm3 to be Down on the manager", async () => (await swarmNodeStates(manager)).find((n) => n.hostname === "swarm3")?.status === "Down", { timeoutMs: 30_000 });
      await waitFor("docker to run initech-worker's 3 tasks away from swarm3", async () => {
        const on = await runningTaskNodes(manager, "initech-worker");
        return on.length === 3 && !on.includes("swarm3");
      }, { timeoutMs: 60_000 });
      await waitForHost(fleet, "swarm1", "swarm3 reported down by the manager's agent", (h) => h.inventory.swarm?.nodes.find((n) => n.hostname === "swarm3")?.status === "down", 30_000);
      await waitForHost(fleet, "swarm1", "initech-worker's 3 running tasks reported, none on swarm3", (h) => {
        const svc = h.inventory.swarm?.services.find((s) => s.name === "initech-worker");
        // A task on a Down node keeps its last state ("running") with desired state shutdown.
        const live = (h.inventory.swarm?.tasks ?? []).filter((t) => t.serviceName === "initech-worker" && t.desiredState === "running" && t.state === "running");
        return svc?.replicasRunning === 3 && live.length === 3 && live.every((t) => t.node !== null && t.node !== "swarm3");
      }, 30_000);
    } finally {
      await lab.start("swarm3", "dockerd");
      await docker(manager, ["node", "update", "--availability", "active", "swarm1"]);
    }
    await waitFor("swarm3 to be Ready again", async () => (await swarmNodeStates(manager)).find((n) => n.hostname === "swarm3")?.status === "Ready", { timeoutMs: 60_000 });
  });

  it("NFS primary stopped: the VIP moves from nfs1 to nfs2 within seconds, and the agents report it", async () => {
    expect(await lab.vipHolder()).toBe("nfs1");
    const t0 = Date.now();
    await lab.stop("nfs1", "ganesha");
    try {
      await waitFor("the VIP to move to nfs2", async () => (await lab.vipHolder()) === "nfs2", { timeoutMs: 15_000 });
      const movedMs = Date.now() - t0;
      expect(movedMs).toBeLessThan(10_000);
      await waitForHost(fleet, "nfs2", "the VIP held here", (h) => h.inventory.storage?.nfs?.vip?.heldHere === true, 30_000);
      await waitForHost(fleet, "nfs1", "the NFS server down and the VIP gone", (h) => h.inventory.storage?.nfs?.serverRunning === false && h.inventory.storage.nfs.vip?.heldHere === false, 30_000);
    } finally {
      await lab.start("nfs1", "ganesha");
    }
    // nfs1 has the higher priority and preempts once its NFS server answers again.
    await waitFor("the VIP to return to nfs1", async () => (await lab.vipHolder()) === "nfs1", { timeoutMs: 20_000 });
  });
});
