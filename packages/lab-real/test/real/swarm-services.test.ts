import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { swarmPortFindingsOf, type Job, type LogChunk } from "@nimbus/domain";
import type { Fleet, FleetEvent } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { docker } from "../../src/docker.js";
import { IMAGE } from "../../src/topology.js";
import { newJobId, openLab, startFleet, waitForHost, waitOnline, watchJob } from "./helpers.js";

/**
 * A service's update, rollback and logs on the real swarm through the manager's agent, as the
 * server asks them: `docker service update --detach --image` followed through docker's
 * UpdateStatus (an image no node has pauses it with the task's error), `docker service rollback`,
 * and `docker service logs --follow` streamed back as swarm.logLines chunks. The nodes' own port
 * checks find nothing blocked, and the manager lists the ingress network with its peers.
 */
describe("real lab: service update, rollback, logs, ports", () => {
  let lab: RealLab;
  let fleet: Fleet;
  const hosts = ["swarm1", "swarm2", "swarm3"];
  const SVC = "h5-real-svc";

  const service = () => fleet.host("swarm1")!.inventory.swarm!.services.find((s) => s.name === SVC);

  async function run(method: "swarm.serviceUpdate" | "swarm.serviceRollback", params: Record<string, unknown>): Promise<Job> {
    const job = watchJob(fleet, "swarm1");
    const { jobId } = await fleet.request("swarm1", method, { jobId: newJobId("svc"), service: SVC, ...params } as never);
    job.track(jobId);
    return job.final(150_000);
  }

  beforeAll(async () => {
    lab = await openLab();
    const exec = await lab.exec("swarm1");
    await docker(exec, ["service", "rm", SVC]).catch(() => undefined);
    await docker(exec, [
      "service", "create", "--detach", "--name", SVC, "--no-resolve-image", "--replicas", "2", "--update-monitor", "2s",
      "--endpoint-mode", "dnsrr", "--stop-grace-period", "1s", IMAGE, "sh", "-c", "echo hello from $HOSTNAME; while true; do echo tick; sleep 1; done",
    ]);
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    await waitForHost(fleet, "swarm1", "the test service running", () => service()?.replicasRunning === 2, 90_000);
  });
  afterAll(async () => {
    const exec = await lab.exec("swarm1");
    await docker(exec, ["service", "rm", SVC]).catch(() => undefined);
    await fleet?.stop();
  });

  it("tasks carry their image and since; the service its networks; the manager the overlays", () => {
    const swarm = fleet.host("swarm1")!.inventory.swarm!;
    const tasks = swarm.tasks.filter((t) => t.serviceName === SVC && t.desiredState === "running");
    expect(tasks).toHaveLength(2);
    for (const t of tasks) {
      expect(t.image).toBe(IMAGE);
      expect(Date.parse(t.since!)).toBeGreaterThan(Date.now() - 10 * 60_000);
    }
    const ingress = swarm.networks!.find((n) => n.ingress)!;
    expect(ingress.subnets.length).toBeGreaterThan(0);
    expect(ingress.nodes).toEqual(expect.arrayContaining(["swarm1", "swarm2", "swarm3"]));
  });

  it("every node reports its port checks and none is blocked", async () => {
    for (const h of hosts) await waitForHost(fleet, h, "its port report", (r) => !!r.inventory.swarm?.ports, 60_000);
    for (const h of hosts) {
      const ports = fleet.host(h)!.inventory.swarm!.ports!;
      expect(ports.listeningUdp, h).toContain(7946);
      expect(ports.reach.filter((r) => !r.ok), h).toEqual([]);
      // 2377/tcp is checked toward the managers; the one manager (swarm1) has no other to reach.
      if (h !== "swarm1") expect(ports.reach.some((r) => r.port === 2377), h).toBe(true);
    }
    expect(swarmPortFindingsOf(fleet.hosts())).toEqual([]);
  });

  it("streams the logs: the tail with task and node, then new lines; stop ends it", async () => {
    const chunks: LogChunk[] = [];
    const streamId = newJobId("logs");
    const off = fleet.subscribe((e: FleetEvent) => {
      if (e.type === "log-lines" && e.chunk.streamId === streamId) chunks.push(e.chunk);
    });
    try {
      await fleet.request("swarm1", "swarm.logs", { streamId, service: SVC, tail: 5, follow: true });
      await waitForHost(fleet, "swarm1", "ticks streamed", () => chunks.flatMap((c) => c.lines).filter((l) => l.text === "tick").length >= 12, 60_000);
      const lines = chunks.flatMap((c) => c.lines);
      expect(lines.every((l) => /^h5-real-svc\.\d$/.test(l.task ?? "") && hosts.includes(l.node ?? "") && !!l.at)).toBe(true);
      await fleet.request("swarm1", "swarm.logsStop", { streamId });
      const n = chunks.length;
      await new Promise((r) => setTimeout(r, 2_500));
      expect(chunks.length).toBeLessThanOrEqual(n + 1);
    } finally {
      off();
    }
  });

  it("an unknown service ends the stream with docker's message", async () => {
    const chunks: LogChunk[] = [];
    const streamId = newJobId("logs");
    const off = fleet.subscribe((e: FleetEvent) => {
      if (e.type === "log-lines" && e.chunk.streamId === streamId) chunks.push(e.chunk);
    });
    try {
      await fleet.request("swarm1", "swarm.logs", { streamId, service: "h5-no-such-svc", tail: 5, follow: true });
      await waitForHost(fleet, "swarm1", "the end", () => chunks.some((c) => c.end), 30_000);
      expect(chunks.find((c) => c.end)!.end!.error).toMatch(/no such task or service/);
    } finally {
      off();
    }
  });

  it("an update to an image no node has pauses with the task's error; rollback completes", async () => {
    const failed = await run("swarm.serviceUpdate", { image: "nimbus/h5-missing:1" });
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatch(/update of h5-real-svc to nimbus\/h5-missing:1 paused: update paused due to failure or early termination of task \w+; No such image: nimbus\/h5-missing:1/);
    await waitForHost(fleet, "swarm1", "the paused status in the section", () => service()?.update?.state === "paused", 30_000);
    const back = await run("swarm.serviceRollback", {});
    expect(back.error).toBeNull();
    expect(back.progress).toMatchObject({ kind: "service-rollback", state: "rollback_completed", image: IMAGE });
    await waitForHost(fleet, "swarm1", "2 replicas again", () => service()?.replicasRunning === 2 && service()?.image === IMAGE, 60_000);
  });
});
