import { describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { toolFailed } from "../../src/real/run.js";
import { RealSwarmNodes, nodeUpdateArgs } from "../../src/real/swarm-nodes.js";
import type { Tool } from "../../src/real/tool.js";

const TOKEN = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx";

/** A scripted docker: answers or fails per command, records every argument list. */
function docker(answer: (args: string[]) => string | Error, calls: string[][]) {
  return {
    run: async (args: string[]) => {
      calls.push(args);
      const a = answer(args);
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as Tool;
}
const fail = (args: string[], stderr: string) => toolFailed({ tool: "docker", args, exitCode: 1, stderr });

describe("real swarm nodes: docker argument lists", () => {
  it("labels, promotes, demotes and removes by name, never as an option", () => {
    expect(nodeUpdateArgs({ action: "label", node: "worker3", labels: { "nimbus.managed": "true", "nimbus.hypervisor": "kvm1" } })).toEqual([
      "node", "update", "--label-add", "nimbus.managed=true", "--label-add", "nimbus.hypervisor=kvm1", "worker3",
    ]);
    expect(nodeUpdateArgs({ action: "promote", node: "w" })).toEqual(["node", "promote", "w"]);
    expect(nodeUpdateArgs({ action: "demote", node: "w" })).toEqual(["node", "demote", "w"]);
    expect(nodeUpdateArgs({ action: "remove", node: "w" })).toEqual(["node", "rm", "--force", "w"]);
  });

  it("rotates a token and answers nothing of what docker printed; a failure that quotes a token loses it", async () => {
    const calls: string[][] = [];
    let changed = 0;
    const ok = new RealSwarmNodes("mgr", docker(() => `${TOKEN}\n`, calls), () => changed++);
    await expect(ok.rotateToken("worker")).resolves.toBeUndefined();
    expect(calls).toEqual([["swarm", "join-token", "--rotate", "-q", "worker"]]);
    const bad = new RealSwarmNodes("mgr", docker((a) => fail(a, `weird failure near ${TOKEN}`), []), () => {});
    const err = await bad.rotateToken("manager").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(JSON.stringify({ m: (err as AgentError).message, d: (err as AgentError).data })).not.toContain(TOKEN);
  });

  it("classifies docker's refusals: unknown node, quorum, not a manager", async () => {
    const run = (stderr: string) => new RealSwarmNodes("mgr", docker((a) => fail(a, stderr), []), () => {}).update({ action: "demote", node: "w" });
    await expect(run("Error response from daemon: node w not found")).rejects.toMatchObject({ code: AgentErrorCode.notFound });
    await expect(run("Error response from daemon: rpc error: code = FailedPrecondition desc = can't remove w from the raft: this would result in a loss of quorum")).rejects.toMatchObject({ code: AgentErrorCode.conflict, message: expect.stringContaining("loss of quorum") });
    await expect(run("Error response from daemon: This node is not a swarm manager.")).rejects.toMatchObject({ code: AgentErrorCode.conflict });
  });

  it("swarm leave: done, or already out of a swarm (no change); a manager's refusal is a conflict", async () => {
    const calls: string[][] = [];
    await new RealSwarmNodes("w", docker(() => "Node left the swarm.\n", calls), () => {}).leave();
    expect(calls).toEqual([["swarm", "leave"]]);
    await expect(new RealSwarmNodes("w", docker((a) => fail(a, "Error response from daemon: This node is not part of a swarm"), []), () => {}).leave()).resolves.toBeUndefined();
    await expect(
      new RealSwarmNodes("m", docker((a) => fail(a, "Error response from daemon: You are attempting to leave the swarm on a node that is participating as a manager."), []), () => {}).leave(),
    ).rejects.toMatchObject({ code: AgentErrorCode.conflict });
  });
});
