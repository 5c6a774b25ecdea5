import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job, SwarmSection } from "@nimbus/domain";
import { planStack } from "@nimbus/domain/compose";
import type { Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { docker } from "../../src/docker.js";
import { IMAGE } from "../../src/topology.js";
import { newJobId, openLab, startFleet, waitForHost, waitOnline, watchJob } from "./helpers.js";

/**
 * A stack deployed on the real swarm through the manager's agent, as the server does it: the
 * file checked against the inventory (planStack: the nodes' real image lists, the ports in use),
 * labelled with the tenant, sent on stdin to `docker stack deploy --resolve-image never`, and
 * followed until its services run; then a file whose image no node has fails with the task
 * error; then `docker stack rm`. The lab's namespaces have no IPVS: dnsrr and host-mode ports.
 */
describe("real lab: stacks", () => {
  let lab: RealLab;
  let fleet: Fleet;
  const hosts = ["swarm1", "swarm2", "swarm3"];
  const STACK = "acme-realstack";

  const compose = (image: string, replicas: number) => `services:
  web:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 2s
    ports:
      - { target: 8097, published: 8097, protocol: tcp, mode: host }
    deploy:
      replicas: ${replicas}
      endpoint_mode: dnsrr
`;

  const engines = () => hosts.flatMap((h) => (fleet.host(h)?.inventory.swarm ? [{ host: h, swarm: fleet.host(h)!.inventory.swarm as SwarmSection }] : []));
  const manager = () => fleet.host("swarm1")!.inventory.swarm as SwarmSection;

  async function run(method: "swarm.stackDeploy" | "swarm.stackRemove", params: Record<string, unknown>): Promise<Job> {
    const job = watchJob(fleet, "swarm1");
    const { jobId } = await fleet.request("swarm1", method, { jobId: newJobId("stack"), ...params } as never);
    job.track(jobId);
    return job.final(150_000);
  }

  beforeAll(async () => {
    lab = await openLab();
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    await waitForHost(fleet, "swarm1", "a manager section", (h) => h.inventory.swarm?.role === "manager" && h.inventory.swarm.services.length > 0);
  });
  afterAll(async () => {
    // Whatever happened, the lab keeps no test stack.
    const exec = await lab.exec("swarm1");
    await docker(exec, ["stack", "rm", STACK]).catch(() => undefined);
    await fleet?.stop();
  });

  it("every node reports its images; the check passes for the lab's image and names what no node has", () => {
    for (const h of hosts) expect(fleet.host(h)!.inventory.swarm!.images, h).toContain(IMAGE);
    const ok = planStack({ name: "realstack", tenant: "acme", compose: compose(IMAGE, 2), manager: manager(), engines: engines() });
    expect(ok.validation.errors).toEqual([]);
    expect(ok.stack).toBe(STACK);
    const missing = planStack({ name: "realstack", tenant: "acme", compose: compose("nimbus/missing:1", 1), manager: manager(), engines: engines() });
    expect(missing.validation.errors).toEqual([{ path: "services.web.image", message: "no node has the image nimbus/missing:1" }]);
  });

  it("deploys, follows the services until they run, and the inventory shows the stack with its tenant and host-mode port", async () => {
    const plan = planStack({ name: "realstack", tenant: "acme", compose: compose(IMAGE, 2), manager: manager(), engines: engines() });
    const final = await run("swarm.stackDeploy", { stack: plan.stack, compose: plan.labelled, services: plan.services, prune: true, timeoutMs: 120_000 });
    expect(final.error).toBeNull();
    expect(final.state).toBe("succeeded");
    const progress = final.progress?.kind === "stack-deploy" ? final.progress : null;
    expect(progress?.steps.map((s) => [s.id, s.state])).toEqual([
      ["validate", "succeeded"],
      ["deploy", "succeeded"],
      ["converge", "succeeded"],
    ]);
    expect(progress?.steps[1]!.log.join("\n")).toMatch(/Creating service acme-realstack_web/);
    expect(progress?.services).toEqual([{ name: "acme-realstack_web", desired: 2, running: 2, error: null }]);
    const section = await waitForHost(fleet, "swarm1", "the stack's service in the section", (h) => !!h.inventory.swarm?.services.some((s) => s.name === "acme-realstack_web" && s.replicasRunning === 2), 30_000);
    const svc = section.inventory.swarm!.services.find((s) => s.name === "acme-realstack_web")!;
    expect(svc).toMatchObject({ tenant: "acme", stack: STACK, ports: [{ published: 8097, target: 8097, protocol: "tcp", mode: "host" }] });
    expect(svc.envDigest).toMatch(/^[0-9a-f]{16}$/);

    // The same file again: the diff says nothing changes; a port now in use is refused for another stack.
    const again = planStack({ name: "realstack", tenant: "acme", compose: compose(IMAGE, 2), manager: section.inventory.swarm!, engines: engines() });
    expect(again.validation.diff).toMatchObject({ exists: true, added: [], removed: [], changed: [], unchanged: ["acme-realstack_web"] });
    const clash = planStack({ name: "other", tenant: "acme", compose: compose(IMAGE, 1), manager: section.inventory.swarm!, engines: engines() });
    expect(clash.validation.errors).toEqual([{ path: "services.web.ports[0]", message: "port 8097/tcp is already published by acme-realstack_web" }]);
  });

  it("a deploy whose image no node has fails with the tasks' error (docker retries; the job does not wait for ever)", async () => {
    const plan = planStack({ name: "realstack", tenant: "acme", compose: compose(IMAGE, 2), manager: manager(), engines: engines() });
    // What the server would have refused: sent straight to the agent, as if a node lost the image after the check.
    const broken = plan.labelled!.replace(IMAGE, "nimbus/missing:1");
    const final = await run("swarm.stackDeploy", { stack: STACK, compose: broken, services: plan.services, prune: true, timeoutMs: 120_000 });
    expect(final.state).toBe("failed");
    expect(final.error).toMatch(/acme-realstack_web: .*(No such image|nimbus\/missing|pull access|repository does not exist).*\(\d+ tasks failed\)/i);
    const progress = final.progress?.kind === "stack-deploy" ? final.progress : null;
    expect(progress?.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "failed"]);
  });

  it("removes the stack and waits until its services are gone", async () => {
    const final = await run("swarm.stackRemove", { stack: STACK, timeoutMs: 120_000 });
    expect(final.error).toBeNull();
    expect(final.state).toBe("succeeded");
    await waitForHost(fleet, "swarm1", "no service of the stack left", (h) => !h.inventory.swarm?.services.some((s) => s.stack === STACK), 60_000);
    const { stdout } = await docker(await lab.exec("swarm1"), ["service", "ls", "--format", "{{.Name}}"]);
    expect(stdout).not.toContain("acme-realstack");
  });
});
