import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_LIMITS, type LogChunk, type ServiceUpdateProgress } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { chunkedSink } from "../../src/swarm-logs.js";
import { parseServicePs } from "../../src/real/parse/docker.js";
import { parseServiceLogLine, serviceLogsArgs } from "../../src/real/swarm-logs.js";
import { overlayNetworks, parseNetworkInspect, parseOverlayLs } from "../../src/real/swarm-networks.js";
import { checkPorts, parseSsListeningUdp, portCheckTargets, tcpProbe } from "../../src/real/swarm-ports.js";
import { parseServiceUpdateInspect, parseTaskTimestamps } from "../../src/real/swarm-update-parse.js";
import { runServiceUpdate, taskCounts } from "../../src/real/swarm-update.js";
import { toolFailed } from "../../src/real/run.js";
import type { Tool } from "../../src/real/tool.js";
import { sample } from "../fixtures/samples.js";

/** Parsers and rules of the services slice, fed with outputs captured from the real lab's docker 20.10. */

describe("docker service logs", () => {
  it("parses timestamped lines with TASK@NODE, keeps a bar inside the text", () => {
    const lines = sample("docker-service-logs-timestamps.txt").trim().split("\n").map(parseServiceLogLine);
    expect(lines[0]).toEqual({ at: "2026-12-07T08:47:57.919530409Z", task: "h5-logcap.1", node: "swarm1", text: "hello from c34b35dba58c" });
    expect(lines[1]!.text).toBe("pipe | inside");
    expect(parseServiceLogLine(sample("docker-service-logs-timestamps.stderr.txt").split("\n")[0]!)).toMatchObject({ task: "h5-logcap.1", text: "to stderr" });
  });

  it("keeps a line of another shape whole", () => {
    expect(parseServiceLogLine("no such task or service: x")).toEqual({ at: null, task: null, node: null, text: "no such task or service: x" });
  });

  it("puts the service after -- and bounds the tail", () => {
    expect(serviceLogsArgs({ service: "web", tail: 50, follow: true })).toEqual(["service", "logs", "--follow", "--tail", "50", "--timestamps", "--no-task-ids", "--no-trunc", "--", "web"]);
    expect(serviceLogsArgs({ service: "web", tail: 999_999, follow: false })).toContain(String(LOG_LIMITS.maxTail));
  });

  it("chunks, cuts long lines, limits the rate and ends once", async () => {
    const chunks: LogChunk[] = [];
    let t = 0;
    const sink = chunkedSink("s1", (c) => chunks.push(c), { flushMs: 1, now: () => t });
    for (let i = 0; i < LOG_LIMITS.linesPerSecond + 10; i++) sink.line({ at: null, task: null, node: null, text: i === 0 ? "y".repeat(10_000) : `l${i}` });
    sink.end("gone");
    sink.end(null);
    sink.line({ at: null, task: null, node: null, text: "after end" });
    const lines = chunks.flatMap((c) => c.lines);
    expect(lines).toHaveLength(LOG_LIMITS.linesPerSecond);
    expect(lines[0]!.text).toHaveLength(LOG_LIMITS.lineChars);
    expect(chunks.every((c) => c.lines.length <= LOG_LIMITS.linesPerChunk)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.dropped, 0)).toBe(10);
    expect(chunks.filter((c) => c.end)).toEqual([expect.objectContaining({ end: { error: "gone" } })]);
    expect(chunks.at(-1)!.end).not.toBeNull();
    t += 1000;
  });
});

describe("service update parsing", () => {
  it("reads a paused update with its message, and a rollback's completion", () => {
    const [paused] = parseServiceUpdateInspect(sample("docker-service-inspect-update-paused.json"));
    expect(paused).toMatchObject({ name: "h5-updcap", image: "nimbus/nosuch:1", previousImage: "nimbus/busybox:lab" });
    expect(paused!.update).toMatchObject({ state: "paused", completedAt: null });
    expect(paused!.update!.message).toMatch(/update paused due to failure/);
    const [done] = parseServiceUpdateInspect(sample("docker-service-inspect-rollback-completed.json"));
    expect(done!.update).toMatchObject({ state: "rollback_completed", message: "rollback completed" });
    expect(done!.image).toBe("nimbus/busybox:lab");
  });

  it("a service never updated has no status; an unknown state is refused", () => {
    expect(parseServiceUpdateInspect(sample("docker-service-inspect-host-mode-tenant.json"))[0]!.update).toBeNull();
    const bad = sample("docker-service-inspect-update-paused.json").replace('"State": "paused"', '"State": "exploded"');
    expect(() => parseServiceUpdateInspect(bad)).toThrow(AgentError);
  });

  it("counts tasks on the new image and names the failed task's error, unquoted", () => {
    const tasks = parseServicePs(sample("docker-service-ps-update-paused.jsonl"), new Map());
    expect(taskCounts(tasks, "nimbus/nosuch:1")).toEqual({ updated: 0, total: 2, taskError: "No such image: nimbus/nosuch:1" });
    const after = parseServicePs(sample("docker-service-ps-rollback-completed.jsonl"), new Map());
    expect(taskCounts(after, "nimbus/busybox:lab")).toMatchObject({ updated: 2, total: 2 });
  });

  it("reads task timestamps and refuses other lines", () => {
    const ts = parseTaskTimestamps(sample("docker-inspect-task-timestamps.txt"));
    expect(ts.get("t6t95jauqpjo8go4vdvm2wzon")).toBe("2026-12-07T08:44:13.0638528Z");
    expect(() => parseTaskTimestamps("abc 2026-01-01")).toThrow(AgentError);
  });
});

/** A scripted docker: inspect answers from the list in turn (the last one repeats). */
function fakeDocker(inspects: string[], ps: string, calls: string[][], fail?: (args: string[]) => Error | null) {
  let i = 0;
  return {
    run: async (args: string[]) => {
      calls.push(args);
      const err = fail?.(args);
      if (err) throw err;
      if (args[1] === "inspect") return inspects[Math.min(i++, inspects.length - 1)]!;
      if (args[1] === "ps") return ps;
      return "h5-updcap\n";
    },
  } as unknown as Tool;
}

describe("service update job", () => {
  const never = sample("docker-service-inspect-host-mode-tenant.json").replaceAll("acme-web", "h5-updcap");
  const paused = sample("docker-service-inspect-update-paused.json");
  const ctx = (reports: unknown[]) => ({ report: (p: unknown) => reports.push(p), signal: new AbortController().signal });

  it("fails with docker's message and the task's error when the update pauses", async () => {
    const calls: string[][] = [];
    const reports: ServiceUpdateProgress[] = [];
    const docker = fakeDocker([never, paused], sample("docker-service-ps-update-paused.jsonl"), calls);
    const run = runServiceUpdate(docker, "swarm1", { jobId: "j", service: "h5-updcap", image: "nimbus/nosuch:1" }, ctx(reports) as never, { pollMs: 0, timeoutMs: 10_000 });
    await expect(run).rejects.toThrow(/update of h5-updcap to nimbus\/nosuch:1 paused: update paused due to failure.*No such image: nimbus\/nosuch:1/);
    expect(calls).toContainEqual(["service", "update", "--detach", "--no-resolve-image", "--image", "nimbus/nosuch:1", "--", "h5-updcap"]);
    expect(reports.at(-1)).toMatchObject({ kind: "service-update", state: "paused", updated: 0, total: 2 });
  });

  it("a rollback succeeds once docker completes it, and a status from before is not taken for it", async () => {
    const calls: string[][] = [];
    const reports: unknown[] = [];
    const done = sample("docker-service-inspect-rollback-completed.json");
    // First inspect = before (paused), then the same paused status again (not fresh), then completed.
    const docker = fakeDocker([paused, paused, done], sample("docker-service-ps-rollback-completed.jsonl"), calls);
    const last = await runServiceUpdate(docker, "swarm1", { jobId: "j", service: "h5-updcap" }, ctx(reports) as never, { pollMs: 0, timeoutMs: 10_000 });
    expect(calls).toContainEqual(["service", "rollback", "--detach", "--", "h5-updcap"]);
    expect(reports[0]).toMatchObject({ state: "updating" });
    expect(last).toMatchObject({ kind: "service-rollback", state: "rollback_completed", image: "nimbus/busybox:lab", updated: 2, total: 2 });
  });

  it("a cancelled update is rolled back by docker and followed until the rollback completes; the job fails as cancelled", async () => {
    const calls: string[][] = [];
    const abort = new AbortController();
    const reports: ServiceUpdateProgress[] = [];
    const done = sample("docker-service-inspect-rollback-completed.json");
    // before, one poll while updating (the cancel arrives with its report), the status at the cancel, then the rollback completed.
    const docker = fakeDocker([never, never, never, done], sample("docker-service-ps-rollback-completed.jsonl"), calls);
    const cancelOnFirst = { report: (p: ServiceUpdateProgress) => (reports.push(p), abort.abort()), signal: abort.signal };
    const run = runServiceUpdate(docker, "swarm1", { jobId: "j", service: "h5-updcap", image: "nimbus/other:2" }, cancelOnFirst as never, { pollMs: 0, timeoutMs: 10_000 });
    await expect(run).rejects.toThrow(/^update of h5-updcap to nimbus\/other:2 cancelled: docker rolled it back to nimbus\/busybox:lab \(2\/2 tasks on nimbus\/busybox:lab\)$/);
    expect(calls.filter((c) => c[1] === "rollback")).toEqual([["service", "rollback", "--detach", "--", "h5-updcap"]]);
    expect(reports.at(-1)).toMatchObject({ kind: "service-update", state: "rollback_completed", image: "nimbus/busybox:lab" });
  });

  it("a cancelled rollback stops following and runs nothing more", async () => {
    const calls: string[][] = [];
    const abort = new AbortController();
    const docker = fakeDocker([paused, paused], sample("docker-service-ps-rollback-completed.jsonl"), calls);
    const cancelOnFirst = { report: () => abort.abort(), signal: abort.signal };
    await expect(runServiceUpdate(docker, "swarm1", { jobId: "j", service: "h5-updcap" }, cancelOnFirst as never, { pollMs: 0, timeoutMs: 10_000 })).rejects.toThrow(
      /stopped following the rollback of h5-updcap; docker finishes it/,
    );
    expect(calls.filter((c) => c[1] === "rollback")).toHaveLength(1);
  });

  it("refuses a rollback without a previous version, and an update to the image it runs", async () => {
    const calls: string[][] = [];
    await expect(runServiceUpdate(fakeDocker([never], "", calls), "swarm1", { jobId: "j", service: "h5-updcap" }, ctx([]) as never, { pollMs: 0, timeoutMs: 1 })).rejects.toThrow(/no previous version/);
    await expect(
      runServiceUpdate(fakeDocker([never], "", calls), "swarm1", { jobId: "j", service: "h5-updcap", image: "nimbus/busybox:lab" }, ctx([]) as never, { pollMs: 0, timeoutMs: 1 }),
    ).rejects.toThrow(/already runs nimbus\/busybox:lab/);
    expect(calls.some((c) => c[1] === "update" || c[1] === "rollback")).toBe(false);
  });

  it("a service that is gone is not found", async () => {
    const docker = fakeDocker([], "", [], () => toolFailed({ tool: "docker", args: [], exitCode: 1, stderr: "Status: Error: no such service: x, Code: 1\nError: No such service: x\n" }));
    await expect(runServiceUpdate(docker, "swarm1", { jobId: "j", service: "x", image: "a:1" }, ctx([]) as never, { pollMs: 0, timeoutMs: 1 })).rejects.toMatchObject({ code: -32003 });
  });
});

describe("overlay networks", () => {
  it("lists swarm overlays with subnets, services and the nodes that carry them", () => {
    const listed = parseOverlayLs(sample("docker-network-ls-format-json.jsonl"));
    expect(listed.map((n) => n.name)).toEqual(["ingress", "pa-ovl"]);
    const nets = parseNetworkInspect(sample("docker-network-inspect-ingress.json"));
    expect(nets[0]).toMatchObject({ name: "ingress", ingress: true, subnets: [{ subnet: "10.0.0.0/24", gateway: "10.0.0.1" }] });
    const nodes = [
      { id: "a", hostname: "swarm1", role: "manager" as const, availability: "active" as const, status: "ready" as const, leader: true, engineVersion: null, address: "10.77.0.21" },
      { id: "b", hostname: "swarm2", role: "worker" as const, availability: "active" as const, status: "ready" as const, leader: false, engineVersion: null, address: "10.77.0.22" },
    ];
    const tasks = [{ id: "t", serviceId: "s", serviceName: "web", slot: 1, node: "swarm9", desiredState: "running", state: "running", error: null }];
    const [ingress] = overlayNetworks(nets, [{ name: "web", networks: ["5zgeioqzuyc7"] }, { name: "other", networks: [] }], tasks, nodes);
    expect(ingress!.services).toEqual(["web"]);
    // Peers by address (10.77.0.23 is not a node the manager lists), plus the node running web's task.
    expect(ingress!.nodes).toEqual(["swarm1", "swarm2", "swarm9"]);
  });
});

describe("swarm port checks", () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it("reads the swarm UDP ports a node listens on from ss", () => {
    expect(parseSsListeningUdp(sample("ss-Hlun-swarm-node.txt"))).toEqual([4789, 7946]);
    expect(parseSsListeningUdp("UNCONN 0 0 [::]:7946 [::]:*\nUNCONN 0 0 *%lo:53 *:*\n")).toEqual([7946]);
    expect(() => parseSsListeningUdp("garbage\n")).toThrow(AgentError);
  });

  it("checks 2377 on managers and 7946 on every peer, never itself", () => {
    expect(portCheckTargets("10.77.0.22", ["10.77.0.21:2377"], ["10.77.0.21", "10.77.0.22", "10.77.0.23"])).toEqual([
      { address: "10.77.0.21", port: 2377 },
      { address: "10.77.0.21", port: 7946 },
      { address: "10.77.0.23", port: 7946 },
    ]);
  });

  it("a TCP connect proves a port; a closed one is refused", async () => {
    expect(await tcpProbe("127.0.0.1", port, 2000)).toBeNull();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const dead = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await tcpProbe("127.0.0.1", dead, 2000)).toBe("connection refused");
  });

  it("reports listening UDP and each peer's result", async () => {
    const ss = { run: async () => sample("ss-Hlun-swarm-node.txt") } as unknown as Tool;
    const report = await checkPorts([{ address: "10.0.0.9", port: 7946 }, { address: "10.0.0.8", port: 2377 }], ss, async (a) => (a === "10.0.0.9" ? null : "connection refused"));
    expect(report).toEqual({
      listeningUdp: [4789, 7946],
      reach: [
        { address: "10.0.0.9", port: 7946, ok: true, error: null },
        { address: "10.0.0.8", port: 2377, ok: false, error: "connection refused" },
      ],
    });
  });
});

describe("task history in the section", () => {
  it("keeps every current task (a rejected replacement is 'ready') and the newest finished ones per service", async () => {
    const { currentAndRecent } = await import("../../src/real/swarm-update-parse.js");
    const t = (id: string, serviceName: string, desiredState: string, since: string) => ({ id, serviceName, desiredState, since });
    const tasks = [
      t("a", "web", "running", "2026-01-01T00:00:09Z"),
      t("b", "web", "ready", "2026-01-01T00:00:08Z"),
      ...Array.from({ length: 8 }, (_, i) => t(`h${i}`, "web", "shutdown", `2026-01-01T00:00:0${i}Z`)),
      t("x", "api", "shutdown", "2026-01-01T00:00:01Z"),
    ];
    const kept = currentAndRecent(tasks, 5).map((x) => x.id);
    expect(kept).toEqual(["a", "b", "h3", "h4", "h5", "h6", "h7", "x"]);
  });
});
