import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadBalancerService, type LoadBalancerStoreLike } from "@nimbus/api";
import type { LbRuntime, LbServerStat, Operation, SwarmSection } from "@nimbus/domain";
import { planStack } from "@nimbus/domain/compose";
import { MemoryOperationStore, OperationManager, type Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { docker } from "../../src/docker.js";
import { IMAGE } from "../../src/topology.js";
import { waitFor } from "../../src/wait.js";
import { newJobId, openLab, startFleet, waitForHost, waitOnline, watchJob } from "./helpers.js";

/**
 * A load balancer as the server runs it, on real daemons: the server's LoadBalancerService writes
 * haproxy.cfg for a swarm service published in host mode on the real swarm's three nodes, the
 * edge agent (swarm1) validates it with the real `haproxy -c`, starts the real HAProxy and reads
 * `show stat` from its socket. Requests through it are shared round robin; a backend whose HTTP
 * check fails goes DOWN after `fall` checks and comes back UP after `rise`; a drained node leaves
 * the rotation (the service re-applies by itself) and returns when it is active again.
 */
describe("real lab: a load balancer in front of a swarm service (real haproxy)", () => {
  let lab: RealLab;
  let fleet: Fleet;
  let ops: OperationManager;
  let lbs: LoadBalancerService;
  const hosts = ["swarm1", "swarm2", "swarm3"];
  const STACK = "acme-reallb";
  const SERVICE = `${STACK}_web`;
  const LB = "reallb";
  const PORT = 8098;
  const FRONT = 8099;

  // Every node runs one task (global) answering HTTP on the node's own address (host mode): its
  // page names the node, /ok is what the health check asks for.
  const compose = `services:
  web:
    image: ${IMAGE}
    hostname: "{{.Node.Hostname}}"
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && echo ok > /www/ok && exec httpd -f -p ${PORT} -h /www"]
    stop_grace_period: 1s
    ports:
      - { target: ${PORT}, published: ${PORT}, protocol: tcp, mode: host }
    deploy:
      mode: global
      endpoint_mode: dnsrr
`;

  type StoredLb = Awaited<ReturnType<LoadBalancerStoreLike["insert"]>>;
  const memoryStore = (): LoadBalancerStoreLike => {
    const rows = new Map<string, StoredLb>();
    const now = () => new Date().toISOString();
    return {
      list: async () => [...rows.values()],
      insert: async (spec, createdBy) => {
        const row = { spec, appliedHash: null, applied: null, createdBy, createdAt: now(), updatedAt: now() };
        rows.set(spec.name, row);
        return row;
      },
      update: async (spec) => {
        const row = { ...rows.get(spec.name)!, spec, updatedAt: now() };
        rows.set(spec.name, row);
        return row;
      },
      setApplied: async (name, appliedHash, applied) => {
        const row = rows.get(name);
        if (row) rows.set(name, { ...row, appliedHash, applied });
      },
      delete: async (name) => rows.delete(name),
    };
  };

  const runtime = (): LbRuntime | undefined => fleet.host("swarm1")?.inventory.lb?.balancers.find((b) => b.name === LB);
  const servers = (): LbServerStat[] => [...(runtime()?.servers ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const states = () => servers().map((s) => `${s.name}:${s.state}`).join(" ");
  const untilStates = (want: string, timeoutMs = 30_000) =>
    waitFor(`backends ${want}`, async () => (states() === want ? true : undefined), { timeoutMs, intervalMs: 200 }).catch((e) => {
      throw new Error(`${(e as Error).message}; the edge reports ${JSON.stringify(fleet.host("swarm1")?.inventory.lb ?? null)}`);
    });
  const ended = (id: string, timeoutMs = 60_000) =>
    waitFor(`operation ${id} to end`, async () => {
      const op = await ops.get(id);
      return op && ["succeeded", "failed", "cancelled"].includes(op.state) ? op : undefined;
    }, { timeoutMs, intervalMs: 200 });
  const lbOps = async (): Promise<Operation[]> => (await ops.list({ limit: 50 })).filter((o) => o.kind === "lb-apply");

  /** One request through the balancer from the edge's own namespace: the page names the node that answered. */
  async function through(): Promise<string> {
    const exec = await lab.exec("swarm1");
    // busybox-static's wget crashes with -q or -T here; the body is on stdout.
    const { stdout } = await exec("busybox", ["wget", "-O", "-", `http://127.0.0.1:${FRONT}/`], { timeoutMs: 5_000 });
    return stdout.trim();
  }
  async function taskContainer(node: string): Promise<string> {
    const { stdout } = await docker(await lab.exec(node), ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${SERVICE}`]);
    const id = stdout.trim().split("\n")[0];
    if (!id) throw new Error(`no task of ${SERVICE} runs on ${node}`);
    return id;
  }
  const setAvailability = async (node: string, availability: "drain" | "active") => docker(await lab.exec("swarm1"), ["node", "update", "--availability", availability, node]);

  beforeAll(async () => {
    lab = await openLab();
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    await waitForHost(fleet, "swarm1", "a manager section and HAProxy on the edge", (h) => h.inventory.swarm?.role === "manager" && !!h.inventory.lb);
    ops = new OperationManager(fleet, new MemoryOperationStore(), { tenantVni: () => null });
    await ops.start();
    lbs = new LoadBalancerService(fleet, memoryStore(), ops, { followDelayMs: 300, verifyDelayMs: 200 });
    await lbs.start();

    const manager = fleet.host("swarm1")!.inventory.swarm as SwarmSection;
    const engines = hosts.map((h) => ({ host: h, swarm: fleet.host(h)!.inventory.swarm as SwarmSection }));
    const plan = planStack({ name: "reallb", tenant: "acme", compose, manager, engines });
    expect(plan.validation.errors).toEqual([]);
    const job = watchJob(fleet, "swarm1");
    const { jobId } = await fleet.request("swarm1", "swarm.stackDeploy", { jobId: newJobId("lb-stack"), stack: plan.stack!, compose: plan.labelled!, services: plan.services, prune: true, timeoutMs: 120_000 } as never);
    job.track(jobId);
    const deployed = await job.final(150_000);
    expect(deployed.error).toBeNull();
    await waitForHost(fleet, "swarm1", "a task of the service on every node", (h) => {
      const s = h.inventory.swarm;
      const svc = s?.services.find((x) => x.name === SERVICE);
      return !!svc && s!.tasks.filter((t) => t.serviceId === svc.id && t.state === "running").length === 3;
    });
  });

  afterAll(async () => {
    // Whatever happened: the node active again, no balancer, no stack.
    await setAvailability("swarm3", "active").catch(() => undefined);
    await lbs?.delete(LB).catch(() => undefined);
    lbs?.stop();
    await docker(await lab.exec("swarm1"), ["stack", "rm", STACK]).catch(() => undefined);
    await ops?.stop();
    await fleet?.stop();
  });

  it("creates the balancer: the config is validated by haproxy -c, HAProxy starts, show stat lists the three nodes UP", async () => {
    const op = await lbs.create({ name: LB, edgeHost: "swarm1", bind: { address: "0.0.0.0", port: FRONT }, mode: "http", target: { kind: "service", service: SERVICE, port: PORT }, check: { interMs: 300, timeoutMs: 500, rise: 2, fall: 2, httpPath: "/ok", expectStatus: 200 } }, "admin@test");
    const final = await ended(op.id);
    expect(final.error, JSON.stringify(final.steps)).toBeNull();
    expect(final.steps.map((s) => [s.id, s.state])).toEqual([
      ["write", "succeeded"],
      ["validate", "succeeded"],
      ["reload", "succeeded"],
      ["verify", "succeeded"],
    ]);
    expect(final.steps.find((s) => s.id === "validate")!.log.join("\n")).toMatch(/valid/i);
    await untilStates("swarm1:up swarm2:up swarm3:up");
    expect(servers().map((s) => s.address)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`:${PORT}$`))]));
  });

  it("shares requests round robin across the nodes, and the counters say so", async () => {
    const before = new Map(servers().map((s) => [s.name, s.selected]));
    const answered: string[] = [];
    for (let i = 0; i < 12; i++) answered.push(await through());
    for (const h of hosts) expect(answered.filter((a) => a === h).length, `${h} in ${answered.join(",")}`).toBe(4);
    // The edge pushes `show stat` as it moves: each server was chosen four more times.
    await waitFor("the counters to show 4 requests each", async () => (servers().every((s) => s.selected - (before.get(s.name) ?? 0) === 4) ? true : undefined), { timeoutMs: 15_000, intervalMs: 200 });
    expect(lbs.get(LB).backends.map((b) => [b.name, b.share])).toEqual(hosts.map((h) => [h, expect.any(Number)]));
  });

  it("a backend whose HTTP check fails goes DOWN after fall checks, takes no requests, and comes back UP after rise", async () => {
    const container = await taskContainer("swarm3");
    const exec3 = await lab.exec("swarm3");
    await docker(exec3, ["exec", container, "rm", "/www/ok"]);
    await untilStates("swarm1:up swarm2:up swarm3:down");
    expect(servers().find((s) => s.name === "swarm3")!.checkCode ?? servers().find((s) => s.name === "swarm3")!.checkStatus).toMatch(/404|L7STS/);
    const answered = new Set<string>();
    for (let i = 0; i < 6; i++) answered.add(await through());
    expect([...answered].sort()).toEqual(["swarm1", "swarm2"]);
    await docker(exec3, ["exec", container, "sh", "-c", "echo ok > /www/ok"]);
    await untilStates("swarm1:up swarm2:up swarm3:up");
  });

  it("a drained node leaves the rotation by itself (lb-apply re-run on the swarm change) and returns when active", async () => {
    const applied = (await lbOps()).length;
    await setAvailability("swarm3", "drain");
    await untilStates("swarm1:up swarm2:up", 60_000);
    const answered = new Set<string>();
    for (let i = 0; i < 6; i++) answered.add(await through());
    expect([...answered].sort()).toEqual(["swarm1", "swarm2"]);
    expect((await lbOps()).length).toBeGreaterThan(applied);

    await setAvailability("swarm3", "active");
    await untilStates("swarm1:up swarm2:up swarm3:up", 60_000);
    const last = (await lbOps()).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!;
    expect((await ended(last.id)).state).toBe("succeeded");
  });

  it("delete stops HAProxy on the edge: nothing answers on the front port", async () => {
    await lbs.delete(LB);
    await waitForHost(fleet, "swarm1", "no balancer in the lb section", (h) => !h.inventory.lb?.balancers.some((b) => b.name === LB), 15_000);
    await expect(through()).rejects.toThrow();
  });
});
