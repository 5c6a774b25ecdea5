import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { runningReplicas } from "../../src/docker.js";
import { domainState, ensureVmOn, migrateToKvm2, newJobId, openLab, startFleet, waitForHost, waitOnline, watchJob } from "./helpers.js";

/** The two operations the product shows off, done for real through the agent. */
describe("real lab: operations", () => {
  let lab: RealLab;
  let fleet: Fleet;
  const hosts = ["kvm1", "kvm2", "swarm1"];

  beforeAll(async () => {
    lab = await openLab();
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
  });
  afterAll(() => fleet?.stop());

  it("live-migrates a running VM from kvm1 to kvm2 with progress events, and both agents see it move", async () => {
    const vm = "acme-web1";
    try {
      const { job } = await migrateToKvm2(lab, fleet, vm, "mig-live");
      const final = await job.final();
      expect(final.error).toBeNull();
      expect(final.state).toBe("succeeded");
      const progress = job.updates.flatMap((j) => (j.progress?.kind === "migrate" ? [j.progress] : []));
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)?.percent).toBe(100);
      const percents = progress.map((p) => p.percent);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(await domainState(lab, "kvm2", vm)).toBe("running");
      expect(await domainState(lab, "kvm1", vm)).toBeNull();
      await waitForHost(fleet, "kvm2", `${vm} in its inventory`, (h) => h.inventory.virt?.domains.some((d) => d.name === vm && d.state === "running") === true, 30_000);
      await waitForHost(fleet, "kvm1", `${vm} gone from its inventory`, (h) => h.inventory.virt?.domains.every((d) => d.name !== vm) === true, 30_000);
      const moved = fleet.host("kvm2")!.inventory.virt!.domains.find((d) => d.name === vm)!;
      expect(moved.tenant).toBe("acme");
      expect(moved.nics[0]?.vlan).toBe(10);
    } finally {
      await ensureVmOn(lab, vm, "kvm1", "kvm2");
    }
  });

  it("scales a swarm service up and back down and converges task by task", async () => {
    const manager = await lab.exec("swarm1");
    const scale = async (replicas: number) => {
      const job = watchJob(fleet, "swarm1");
      const { jobId } = await fleet.request("swarm1", "swarm.scale", { jobId: newJobId("scale"), service: "initech-worker", replicas });
      job.track(jobId);
      const final = await job.final();
      expect(final.error).toBeNull();
      expect(final.state).toBe("succeeded");
      expect((await runningReplicas(manager)).get("initech-worker")).toEqual({ running: replicas, desired: replicas });
      await waitForHost(fleet, "swarm1", `initech-worker at ${replicas}/${replicas}`, (h) => {
        const s = h.inventory.swarm?.services.find((x) => x.name === "initech-worker");
        return s?.replicasDesired === replicas && s.replicasRunning === replicas;
      }, 30_000);
      return job.updates;
    };
    try {
      const updates = await scale(5);
      expect(updates.some((j) => j.progress?.kind === "scale")).toBe(true);
    } finally {
      await scale(3);
    }
  });
});
