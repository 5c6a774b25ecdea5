import { describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { watchLines } from "../../src/real/lines.js";
import { silentLog } from "../../src/real/log.js";
import { runTool } from "../../src/real/run.js";
import { Tool } from "../../src/real/tool.js";

const node = process.execPath;
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(AgentError);
  expect((e as AgentError).code).toBe(AgentErrorCode.toolFailed);
  return e as AgentError;
};

describe("runTool", () => {
  it("returns stdout, passes arguments verbatim (no shell) and runs with LC_ALL=C", async () => {
    const { stdout } = await runTool(node, ["-e", "console.log(JSON.stringify([process.argv[1], process.env.LC_ALL]))", "$(echo hi); rm -rf /"]);
    expect(JSON.parse(stdout)).toEqual(["$(echo hi); rm -rf /", "C"]);
  });
  it("fails with the exit code and stderr when the tool exits non-zero", async () => {
    const e = await failure(runTool(node, ["-e", "console.error('error: Domain not found'); process.exit(3)"], { label: "virsh" }));
    expect(e.data).toMatchObject({ tool: "virsh", exitCode: 3 });
    expect(String(e.data!.stderr)).toContain("Domain not found");
    expect(e.message).toMatch(/exited with 3: error: Domain not found/);
  });
  it("kills a tool that runs past its timeout", async () => {
    const e = await failure(runTool(node, ["-e", "setTimeout(() => {}, 60000)"], { timeoutMs: 200 }));
    expect(e.message).toMatch(/timed out after 200 ms/);
  });
  it("kills a tool that writes more than its output cap", async () => {
    const e = await failure(runTool(node, ["-e", "process.stdout.write('x'.repeat(100000)); setTimeout(() => {}, 60000)"], { maxBytes: 1000 }));
    expect(e.message).toMatch(/more than 1000 bytes/);
  });
  it("says when a tool is not installed", async () => {
    const e = await failure(runTool("nimbus-no-such-tool", ["list"]));
    expect(e.message).toMatch(/not installed/);
  });
  it("kills the tool when the caller aborts", async () => {
    const ac = new AbortController();
    const run = runTool(node, ["-e", "setTimeout(() => {}, 60000)"], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await failure(run)).message).toMatch(/cancelled/);
  });
  it("feeds stdin", async () => {
    const { stdout } = await runTool(node, ["-e", "process.stdin.pipe(process.stdout)"], { stdin: "hello" });
    expect(stdout).toBe("hello");
  });
});

describe("Tool", () => {
  it("puts configured arguments and environment before the request's, and names errors by the tool", async () => {
    const tool = new Tool("virsh", { path: node, args: ["-e", "console.log(process.argv.slice(1).join(' '), process.env.OVS_RUNDIR); process.exit(Number(process.argv[1] === 'fail'))"], env: { OVS_RUNDIR: "/run/x" } });
    expect((await tool.run(["list", "--all"])).trim()).toBe("list --all /run/x");
    const e = await failure(tool.run(["fail"]));
    expect(e.data).toMatchObject({ tool: "virsh", args: ["fail"] });
  });
});

describe("watchLines", () => {
  it("delivers lines and restarts a child that dies", async () => {
    const lines: string[] = [];
    let restarts = 0;
    const stop = watchLines({
      name: "test",
      cmd: node,
      args: ["-e", "console.log('event lifecycle'); process.exit(1)"],
      log: silentLog,
      minBackoffMs: 20,
      onLine: (l) => lines.push(l),
      onRestart: () => restarts++,
    });
    const until = Date.now() + 10_000;
    while (restarts < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l === "event lifecycle").length).toBeGreaterThanOrEqual(2);
  });
  it("stops following when stopped", async () => {
    const lines: string[] = [];
    const stop = watchLines({ name: "test", cmd: node, args: ["-e", "setInterval(() => console.log('tick'), 20)"], log: silentLog, onLine: (l) => lines.push(l) });
    const until = Date.now() + 10_000;
    while (lines.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    stop();
    await new Promise((r) => setTimeout(r, 100));
    const seen = lines.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(lines.length).toBe(seen);
  });
});
