import { describe, expect, it } from "vitest";
import type { StackDeployProgress, StackRemoveProgress } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { toolFailed } from "../../src/real/run.js";
import { deployStack, parseImageLs, removeStack, type StackRunner } from "../../src/real/swarm-stacks.js";
import type { Tool } from "../../src/real/tool.js";
import { sample } from "../fixtures/samples.js";

/**
 * Stack jobs against a scripted docker CLI (docker 20.10's JSON lines): what is run, with the
 * compose on stdin, and how the follow loop judges convergence and failure.
 */

const nodeLs = sample("docker-node-ls-format-json.jsonl");
const svcLine = (name: string, replicas: string) => JSON.stringify({ ID: `id${name}`, Image: "pa-busybox:1", Mode: "replicated", Name: name, Ports: "", Replicas: replicas });
const taskLine = (id: string, name: string, state: string, desired = "Running", error = "") =>
  JSON.stringify({ CurrentState: `${state} 2 seconds ago`, DesiredState: desired, Error: error, ID: id, Image: "pa-busybox:1", Name: name, Node: "swarm-mgr1", Ports: "" });

interface Script {
  services: string[];
  ps: string[];
  deployFails?: string;
  rm?: () => string;
}

function runner(script: Script, calls: { args: string[]; stdin?: string }[]): StackRunner {
  let s = 0;
  let p = 0;
  const run = async (args: string[], opts: { stdin?: string } = {}) => {
    calls.push({ args, stdin: opts.stdin });
    const key = args.slice(0, 2).join(" ");
    if (key === "stack deploy") {
      if (script.deployFails) throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: script.deployFails });
      return "Creating network shop_default\nCreating service shop_web\n";
    }
    if (key === "stack rm") return script.rm ? script.rm() : "Removing service shop_web\nRemoving network shop_default\n";
    if (key === "stack services") return script.services[Math.min(s++, script.services.length - 1)]!;
    if (key === "stack ps") {
      const out = script.ps[Math.min(p++, script.ps.length - 1)]!;
      if (out === "NOTHING") throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: "nothing found in stack: shop\n" });
      return out;
    }
    if (key === "node ls") return nodeLs;
    throw toolFailed({ tool: "docker", args, exitCode: 1, stderr: `unexpected ${key}` });
  };
  return { host: "swarm-mgr1", docker: { run } as unknown as Tool, pollMs: 0, resolveImage: "never", changed: () => undefined };
}

const ctx = <P>(reports: P[], signal = new AbortController().signal) => ({ report: (x: P) => reports.push(x), signal });
const params = { jobId: "j", stack: "shop", compose: "services:\n  web:\n    image: pa-busybox:1\n", services: ["shop_web"], prune: true, timeoutMs: 60_000 };

describe("stack deploy on a real manager", () => {
  it("sends the compose on stdin with --resolve-image never and --prune, and converges when the replicas run", async () => {
    const calls: { args: string[]; stdin?: string }[] = [];
    const reports: StackDeployProgress[] = [];
    const r = runner(
      {
        services: [svcLine("shop_web", "0/2"), svcLine("shop_web", "2/2")],
        ps: ["NOTHING", taskLine("a", "shop_web.1", "Preparing"), [taskLine("a", "shop_web.1", "Running"), taskLine("b", "shop_web.2", "Running")].join("\n")],
      },
      calls,
    );
    const final = await deployStack(r, params, ctx(reports));
    const deploy = calls.find((c) => c.args[1] === "deploy")!;
    expect(deploy.args).toEqual(["stack", "deploy", "--compose-file", "-", "--resolve-image", "never", "--prune", "shop"]);
    expect(deploy.stdin).toBe(params.compose);
    expect(final.steps.map((s) => [s.id, s.state])).toEqual([
      ["validate", "succeeded"],
      ["deploy", "succeeded"],
      ["converge", "succeeded"],
    ]);
    expect(final.steps[1]!.log).toContain("Creating service shop_web");
    expect(final.services).toEqual([{ name: "shop_web", desired: 2, running: 2, error: null }]);
    expect(reports.some((p) => p.services[0]?.running === 0)).toBe(true);
  });

  it("fails with the tasks' error once a service had three tasks rejected since the deploy (an old failure does not count)", async () => {
    const old = taskLine("old", "shop_web.1", "Rejected", "Shutdown", "No such image: from-last-week");
    const rejected = (id: string) => taskLine(id, "shop_web.1", "Rejected", "Shutdown", "No such image: shop:2");
    const r = runner({ services: [svcLine("shop_web", "0/1")], ps: [old, [rejected("r1"), old].join("\n"), [rejected("r2"), rejected("r1"), old].join("\n"), [rejected("r3"), rejected("r2"), rejected("r1"), old].join("\n")] }, []);
    const reports: StackDeployProgress[] = [];
    const err = await deployStack(r, params, ctx(reports)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as Error).message).toBe("shop_web: No such image: shop:2 (3 tasks failed)");
    const last = reports.at(-1)!;
    expect(last.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(last.services[0]!.error).toBe("No such image: shop:2");
  });

  it("fails the deploy step with docker's words when docker refuses the file, and skips the rest", async () => {
    const reports: StackDeployProgress[] = [];
    const r = runner({ services: [""], ps: ["NOTHING"], deployFails: "service web: undefined network \"back\"\n" }, []);
    await expect(deployStack(r, params, ctx(reports))).rejects.toThrow(/undefined network "back"/);
    expect(reports.at(-1)!.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "skipped"]);
  });

  it("times out naming what runs", async () => {
    const r = runner({ services: [svcLine("shop_web", "1/2")], ps: ["NOTHING", taskLine("a", "shop_web.1", "Running")] }, []);
    await expect(deployStack(r, { ...params, timeoutMs: 0 }, ctx([]))).rejects.toThrow(/did not converge within 0 s \(shop_web 1\/2\)/);
  });

  it("stops following when cancelled, saying the stack stays and which services converged", async () => {
    const abort = new AbortController();
    const two = { ...params, services: ["shop_web", "shop_db"] };
    const r = runner({ services: [[svcLine("shop_web", "2/2"), svcLine("shop_db", "0/1")].join("\n")], ps: [[taskLine("a", "shop_web.1", "Running"), taskLine("b", "shop_web.2", "Running")].join("\n")] }, []);
    const cancelOnServices = { report: (p: StackDeployProgress) => void (p.services.length && abort.abort()), signal: abort.signal };
    await expect(deployStack(r, two, cancelOnServices as never)).rejects.toThrow(
      /^deploy of shop cancelled; converged: shop_web; not converged: shop_db 0\/1\. The stack stays deployed as far as it got/,
    );
  });
});

describe("stack remove on a real manager", () => {
  it("runs docker stack rm and waits until the services are gone", async () => {
    const calls: { args: string[] }[] = [];
    const reports: StackRemoveProgress[] = [];
    const r = runner({ services: [svcLine("shop_web", "1/1"), "Nothing found in stack: shop\n"], ps: [""] }, calls);
    const final = await removeStack(r, { jobId: "j", stack: "shop", timeoutMs: 60_000 }, ctx(reports));
    expect(calls.map((c) => c.args.slice(0, 2).join(" "))).toEqual(["stack rm", "stack services", "stack services"]);
    expect(final.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded"]);
    expect(final.steps[1]!.log.at(-1)).toBe("shop has no services left");
  });
});

describe("docker image ls", () => {
  it("lists tagged images, bounded; refuses output that is not docker's", () => {
    const text = [
      { Repository: "pa-busybox", Tag: "1", ID: "x" },
      { Repository: "<none>", Tag: "<none>", ID: "y" },
      { Repository: "nginx", Tag: "1.25", ID: "z" },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n");
    expect(parseImageLs(text, 10)).toEqual(["nginx:1.25", "pa-busybox:1"]);
    expect(parseImageLs(text, 1)).toHaveLength(1);
    expect(() => parseImageLs("not json\n", 10)).toThrow(AgentError);
  });
});
