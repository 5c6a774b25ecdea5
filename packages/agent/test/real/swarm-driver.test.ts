import { describe, expect, it } from "vitest";
import { AgentErrorCode, type ScaleProgress } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { toolFailed } from "../../src/real/run.js";
import { RealSwarmDriver } from "../../src/real/swarm.js";
import type { Tool } from "../../src/real/tool.js";
import { sample } from "../fixtures/samples.js";

/**
 * The swarm driver against a scripted docker CLI: a manager whose cluster has swarm-wrk2 down.
 * `docker service ls` there still counts the down node's task as running (what docker 20.10
 * printed in the real lab), so only the tasks tell how many replicas really run.
 */

const NOT_MANAGER =
  "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.\n";

const nodeLs = sample("docker-node-ls-format-json.jsonl").replace(/("Hostname":"swarm-wrk2".*?)"Status":"Ready"/, '$1"Status":"Down"');
const serviceLs = (replicas: string) => `{"ID":"t38uzurup31u","Image":"pa-busybox:1","Mode":"replicated","Name":"pa-web","Ports":"","Replicas":"${replicas}"}\n`;
const task = (slot: number, node: string, desired = "Running", current = "Running 5 seconds ago") =>
  JSON.stringify({ CurrentState: current, DesiredState: desired, Error: "", ID: `task${slot}${node}`, Image: "pa-busybox:1", Name: `pa-web.${slot}`, Node: node, Ports: "" });

interface Script {
  serviceLs: string[];
  servicePs: string[];
  demotedAfterInfo?: boolean;
  demotedAfterScale?: boolean;
}

function fakeDocker(script: Script, calls: string[][]) {
  let ls = 0;
  let ps = 0;
  const run = async (args: string[]) => {
    calls.push(args);
    const key = args.slice(0, 2).join(" ");
    if (key.startsWith("info")) return sample("docker-info-format-json-manager.json");
    if (script.demotedAfterInfo) throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: NOT_MANAGER });
    if (key === "service scale") return "pa-web scaled to 3\n";
    if (script.demotedAfterScale) throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: NOT_MANAGER });
    if (key === "node ls") return nodeLs;
    if (key === "service ls") return script.serviceLs[Math.min(ls++, script.serviceLs.length - 1)]!;
    if (key === "service ps") return script.servicePs[Math.min(ps++, script.servicePs.length - 1)]!;
    if (key === "service inspect") return sample("docker-service-inspect-pa-web.json");
    if (key === "network ls") return sample("docker-network-ls-overlay.jsonl");
    if (key === "network inspect") return sample("docker-network-inspect-ingress.json");
    if (args[0] === "inspect") return args.slice(5).map((id) => `${id} "2026-12-07T08:44:13.0638528Z"`).join("\n");
    if (key === "node inspect") return JSON.stringify([...JSON.parse(sample("docker-node-inspect-self.json")), ...JSON.parse(sample("docker-node-inspect-worker.json"))]);
    throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: `unexpected ${key}` });
  };
  return { run, command: (args: string[]) => ({ cmd: "docker", args, env: {} }) } as unknown as Tool;
}

const swarm = (script: Script, calls: string[][] = [], timeoutMs = 60_000) =>
  new RealSwarmDriver("swarm-mgr1", fakeDocker(script, calls), { ...AgentConfig.parse({}).swarm, scalePollMs: 0, scaleTimeoutMs: timeoutMs }, silentLog);

const scale = async (driver: RealSwarmDriver, replicas: number) => {
  const reports: ScaleProgress[] = [];
  await driver.scale({ jobId: "j", service: "pa-web", replicas }, { report: (p) => reports.push(p), signal: new AbortController().signal });
  return reports.map((r) => r.running);
};

describe("swarm.scale while a node is down", () => {
  it("does not report success while a replica still counts only on the down node", async () => {
    const calls: string[][] = [];
    const running = await scale(
      swarm(
        {
          // docker says 3/3 from the start: its third task is on swarm-wrk2, which is down.
          serviceLs: [serviceLs("3/3")],
          servicePs: [[task(1, "swarm-mgr1"), task(2, "swarm-wrk1"), task(3, "swarm-wrk2")].join("\n"), [task(1, "swarm-mgr1"), task(2, "swarm-wrk1"), task(3, "swarm-wrk1")].join("\n")],
        },
        calls,
      ),
      3,
    );
    expect(running).toEqual([2, 3]);
    expect(calls.filter((c) => c[0] === "service" && c[1] === "ps")).toHaveLength(2);
  });

  it("converges at once when docker says 4/3 but three replicas run on live nodes", async () => {
    const running = await scale(
      // A short timeout: waiting for docker's 4/3 to become 3/3 would fail here.
      swarm({ serviceLs: [serviceLs("4/3")], servicePs: [[task(1, "swarm-mgr1"), task(2, "swarm-wrk1"), task(3, "swarm-wrk2"), task(4, "swarm-wrk1")].join("\n")] }, [], 50),
      3,
    );
    expect(running).toEqual([3]);
  });

  it("a scale down waits until the tasks told to stop have stopped (docker still counts them)", async () => {
    const calls: string[][] = [];
    const three = [task(1, "swarm-mgr1"), task(2, "swarm-wrk1"), task(3, "swarm-wrk1")];
    await scale(
      swarm(
        {
          serviceLs: [serviceLs("5/3"), serviceLs("3/3")],
          servicePs: [
            // What docker 20.10 lists after a scale down: the extra tasks are told "Remove".
            [...three, task(4, "swarm-mgr1", "Remove"), task(5, "swarm-wrk1", "Shutdown")].join("\n"),
            [...three, task(4, "swarm-mgr1", "Remove", "Complete 1 second ago"), task(5, "swarm-wrk1", "Shutdown", "Shutdown 1 second ago")].join("\n"),
          ],
        },
        calls,
      ),
      3,
    );
    const ps = calls.filter((c) => c[0] === "service" && c[1] === "ps");
    expect(ps).toHaveLength(2);
    // No desired-state filter: none selects the tasks told "remove".
    expect(ps[0]!.some((a) => a.startsWith("desired-state="))).toBe(false);
  });

  it("the snapshot counts the same way", async () => {
    const section = await swarm({ serviceLs: [serviceLs("3/3")], servicePs: [[task(1, "swarm-mgr1"), task(2, "swarm-wrk2")].join("\n")] }).snapshot();
    expect(section.services.map((s) => [s.name, s.replicasRunning, s.replicasDesired])).toEqual([["pa-web", 1, 3]]);
  });
});

describe("swarm.scale on a manager demoted while it waits", () => {
  it("is a conflict saying so, not a bare tool failure", async () => {
    const e = await scale(swarm({ serviceLs: [], servicePs: [], demotedAfterScale: true }), 3).catch((x: unknown) => x as AgentError);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe(AgentErrorCode.conflict);
    expect((e as AgentError).message).toMatch(/^watching service pa-web on swarm-mgr1: .*not a swarm manager/);
  });
});

describe("swarm snapshot on a manager demoted mid-read", () => {
  it("falls back to the worker view instead of failing", async () => {
    const section = await swarm({ serviceLs: [], servicePs: [], demotedAfterInfo: true }).snapshot();
    expect(section).toEqual({ nodeId: "a63r5prety9w3ummuji6mz54e", role: "worker", clusterId: "r3p3wozp0se49k6qbb4v6t9f2", nodes: [], services: [], tasks: [] });
  });

  it("other failures still fail the snapshot", async () => {
    const driver = new RealSwarmDriver(
      "swarm-mgr1",
      {
        run: async (args: string[]) => {
          if (args[0] === "info") return sample("docker-info-format-json-manager.json");
          throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: "Cannot connect to the Docker daemon\n" });
        },
      } as unknown as Tool,
      AgentConfig.parse({}).swarm,
      silentLog,
    );
    await expect(driver.snapshot()).rejects.toMatchObject({ code: AgentErrorCode.toolFailed });
  });
});
