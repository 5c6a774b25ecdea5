import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MigrationProgress } from "@nimbus/domain";
import type { AgentDrivers } from "../../src/drivers.js";
import { startAgentDaemon, type AgentDaemon } from "../../src/daemon.js";
import { relayStdio } from "../../src/relay.js";
import { nodeFacts, wire } from "./wire.js";

const facts = nodeFacts("kvm1");
const copying: MigrationProgress = {
  kind: "migrate", phase: "copying", memoryTotalBytes: 100, memoryProcessedBytes: 40, memoryRemainingBytes: 60,
  bandwidthBytesPerSec: 1, dirtyRateBytesPerSec: 0, iteration: 1, expectedDowntimeMs: null, percent: 40, downtimeMs: null,
};

/** A host whose migrations run until the test finishes them. */
function fakeHost() {
  const finish: (() => void)[] = [];
  const drivers: AgentDrivers = {
    hostname: "kvm1",
    node: { snapshot: async () => facts, watch: () => () => {} },
    virt: {
      snapshot: async () => ({ hypervisor: "QEMU", domains: [] }),
      watch: () => () => {},
      migrate: (_p, ctx) =>
        new Promise((resolve) => {
          ctx.report(copying);
          finish.push(() => resolve({ downtimeMs: 5 }));
        }),
      power: async () => {},
    },
  };
  return { drivers, finishMigrations: () => finish.splice(0).forEach((f) => f()) };
}

/**
 * One `serve --stdio` as the relay runs it, its stdin and stdout being PassThroughs: `drop()` is
 * the SSH link going away (sshd closes the agent's stdio).
 */
function session(socket: string, startDaemon = async () => {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const w = wire(stdin, stdout);
  const { messages, waitFor } = w;
  const call = (method: string, params: unknown = {}) => w.call(method, params);
  const done = relayStdio({ socket, input: stdin, output: stdout, startDaemon });
  return { call, waitFor, messages, done, drop: () => stdin.destroy() };
}

const migrate = { jobId: "op-1", domain: "web-1", destination: { host: "kvm2", uri: "qemu+ssh://kvm2/system" }, options: {} };

let dir: string;
let daemon: AgentDaemon | null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-daemon-"));
  daemon = null;
});
afterEach(async () => {
  vi.useRealTimers();
  daemon?.close();
  await daemon?.ended;
  rmSync(dir, { recursive: true, force: true });
});

const start = async (drivers: AgentDrivers, lingerMs = 60_000) =>
  (daemon = await startAgentDaemon({ socketPath: join(dir, "agent.sock"), drivers, agentVersion: "9.9.9", lingerMs, log: () => {}, pushDelayMs: 1 }));

describe("the agent daemon", () => {
  it("keeps a migration running when the link drops; the next session lists it and follows it to the end", async () => {
    const host = fakeHost();
    await start(host.drivers);
    const first = session(join(dir, "agent.sock"));
    const hello = (await first.call("hello", { protocol: 1, server: "s" })).result;
    await first.call("inventory.snapshot");
    expect((await first.call("virt.migrate", migrate)).result).toEqual({ jobId: "op-1" });
    await first.waitFor((m) => m.method === "job.update" && m.params.job.progress?.percent === 40);
    first.drop();
    await first.done;

    const second = session(join(dir, "agent.sock"));
    expect((await second.call("hello", { protocol: 1, server: "s" })).result.bootId).toBe(hello.bootId);
    await second.call("inventory.snapshot");
    expect((await second.call("job.list")).result).toEqual([expect.objectContaining({ id: "op-1", state: "running", progress: copying })]);
    host.finishMigrations();
    const end = await second.waitFor((m) => m.method === "job.update" && m.params.job.state !== "running");
    expect(end.params.job).toMatchObject({ id: "op-1", state: "succeeded", progress: { phase: "done", percent: 100, downtimeMs: 5 } });
  });

  it("is started by the relay only when none answers on the socket", async () => {
    const host = fakeHost();
    const startDaemon = vi.fn(async () => void (await start(host.drivers)));
    const first = session(join(dir, "agent.sock"), startDaemon);
    await first.call("hello", { protocol: 1, server: "s" });
    const second = session(join(dir, "agent.sock"), startDaemon);
    await second.call("hello", { protocol: 1, server: "s" });
    expect(startDaemon).toHaveBeenCalledTimes(1);
  });

  it("replaces a socket file a dead daemon left, and refuses to start beside a live one", async () => {
    const host = fakeHost();
    // What a daemon killed with SIGKILL leaves: a file at the path that nobody answers on.
    writeFileSync(join(dir, "agent.sock"), "");
    await start(host.drivers);
    expect((await session(join(dir, "agent.sock")).call("hello", { protocol: 1, server: "s" })).result.hostname).toBe("kvm1");
    await expect(startAgentDaemon({ socketPath: join(dir, "agent.sock"), drivers: host.drivers, agentVersion: "9.9.9", lingerMs: 0, log: () => {} })).rejects.toThrow(
      /an agent daemon already answers on/,
    );
  });

  it("stays while a job runs with nobody connected, and ends once idle for lingerMs", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const host = fakeHost();
    const d = await start(host.drivers, 60_000);
    let ended = false;
    void d.ended.then(() => (ended = true));
    const s = session(join(dir, "agent.sock"));
    await s.call("hello", { protocol: 1, server: "s" });
    await s.call("virt.migrate", migrate);
    s.drop();
    await s.done;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(ended).toBe(false);
    host.finishMigrations();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    await d.ended;
    daemon = null;
  });
});
