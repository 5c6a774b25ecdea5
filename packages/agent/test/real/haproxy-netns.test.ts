import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LbSection, NodeFacts } from "@nimbus/domain";
import { serveAgent } from "../../src/index.js";
import { RealHaproxyDriver } from "../../src/real/haproxy.js";
import { createNetns } from "./netns.js";

/**
 * The agent's load balancer path as the Nimbus server uses it (JSON-RPC requests and pushed `lb`
 * sections) in front of real backends: a real HAProxy in an edge network namespace, two busybox
 * httpd servers in namespaces of their own, reached over veth pairs. A backend stopped goes DOWN
 * in a pushed section, started again it comes back UP. Every namespace and process is removed.
 */
const facts: NodeFacts = { hostname: "edge", os: "Debian", kernel: "6.1", cpuModel: "x", cpuFeatures: [], cpuCount: 2, cpuUsagePct: 1, memoryTotalMiB: 1024, memoryUsedMiB: 100, diskTotalBytes: 10, diskUsedBytes: 1, uptimeSeconds: 5 };

let dir: string;
let edge: ReturnType<typeof createNetns>;
const backends: { name: string; ns: ReturnType<typeof createNetns>; address: string; httpd: ChildProcess | null }[] = [];
let driver: RealHaproxyDriver;
const messages: any[] = [];
let input: PassThrough;

function startHttpd(b: (typeof backends)[number]) {
  const root = join(dir, b.name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "index.html"), `hello from ${b.name}\n`);
  b.httpd = spawn("ip", ["netns", "exec", b.ns.name, "busybox", "httpd", "-f", "-p", `${b.address}:8080`, "-h", root], { stdio: "ignore" });
}
function stopHttpd(b: (typeof backends)[number]) {
  b.httpd?.kill("SIGKILL");
  b.httpd = null;
}
// busybox-static's wget crashes with -q or -T here; its progress goes to stderr, the body to stdout.
const fetchInEdge = () => execFileSync("ip", ["netns", "exec", edge.name, "busybox", "wget", "-O", "-", "http://127.0.0.1:80/"], { stdio: ["ignore", "pipe", "pipe"], timeout: 5_000 }).toString().trim();

let id = 0;
const call = (method: string, params: unknown) =>
  new Promise<any>((resolve, reject) => {
    const myId = ++id;
    const started = messages.length;
    input.write(JSON.stringify({ jsonrpc: "2.0", id: myId, method, params }) + "\n");
    const until = Date.now() + 20_000;
    const look = () => {
      const m = messages.slice(started).find((x) => x.id === myId);
      if (m) return m.error ? reject(new Error(m.error.message)) : resolve(m.result);
      if (Date.now() > until) return reject(new Error(`${method}: no answer`));
      setTimeout(look, 20);
    };
    look();
  });
/** The latest pushed `lb` section that satisfies `ok` (polls what the agent pushed; fails after 15 s). */
async function pushed(ok: (lb: LbSection) => boolean, what: string): Promise<LbSection> {
  const until = Date.now() + 15_000;
  for (;;) {
    const last = messages.filter((m) => m.method === "inventory.section" && m.params.section === "lb").at(-1)?.params.data as LbSection | undefined;
    if (last && ok(last)) return last;
    if (Date.now() > until) throw new Error(`no pushed lb section with ${what}; last: ${JSON.stringify(last?.balancers[0]?.servers.map((s) => [s.name, s.status]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const stateOf = (lb: LbSection, name: string) => lb.balancers[0]?.servers.find((s) => s.name === name)?.state;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-lb-netns-"));
  edge = createNetns("lbedge");
  for (const [i, name] of ["b1", "b2"].entries()) {
    const ns = createNetns(`lb${name}`);
    const host = `veth-${name}-${process.pid % 10000}`.slice(0, 15);
    const peer = `vp-${name}-${process.pid % 10000}`.slice(0, 15);
    execFileSync("ip", ["-n", edge.name, "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns.name]);
    edge.ip("addr", "add", `10.77.${i + 1}.1/30`, "dev", host);
    edge.ip("link", "set", host, "up");
    ns.ip("addr", "add", `10.77.${i + 1}.2/30`, "dev", peer);
    ns.ip("link", "set", peer, "up");
    const b = { name, ns, address: `10.77.${i + 1}.2`, httpd: null };
    backends.push(b);
    startHttpd(b);
  }
  driver = new RealHaproxyDriver({ dir: join(dir, "lb"), haproxy: "ip", prefixArgs: ["netns", "exec", edge.name, "haproxy"], pollMs: 200 });
  input = new PassThrough();
  const output = new PassThrough();
  void serveAgent({ input, output, drivers: { hostname: "edge", node: { snapshot: async () => facts, watch: () => () => {} }, lb: driver }, agentVersion: "test", pushDelayMs: 1 });
  createInterface({ input: output }).on("line", (l) => messages.push(JSON.parse(l)));
}, 30_000);

afterAll(async () => {
  input?.end();
  await driver?.remove("web").catch(() => undefined);
  for (const b of backends) {
    stopHttpd(b);
    b.ns.remove();
  }
  edge?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe("real HAProxy in a network namespace, through the agent protocol", () => {
  it("lb-apply's requests start it; both backends come UP in a pushed section and share the requests", async () => {
    expect((await call("inventory.snapshot", {})).lb).toEqual({ balancers: [] });
    const params = {
      name: "web",
      bind: { address: "127.0.0.1", port: 80 },
      mode: "http",
      check: { interMs: 200, timeoutMs: 200, rise: 2, fall: 2, httpPath: "/", expectStatus: 200 },
      servers: backends.map((b) => ({ name: b.name, address: b.address, port: 8080 })),
    };
    await call("lb.write", params);
    expect((await call("lb.validate", { name: "web" })).ok).toBe(true);
    expect((await call("lb.reload", { name: "web" })).how).toBe("started");
    await pushed((lb) => lb.balancers[0]?.servers.every((s) => s.state === "up" && s.checkStatus === "L7OK") === true, "both backends checked UP");
    const bodies = [fetchInEdge(), fetchInEdge(), fetchInEdge(), fetchInEdge()];
    expect(bodies.sort()).toEqual(["hello from b1", "hello from b1", "hello from b2", "hello from b2"]);
  });

  it("a backend stopped goes DOWN (L4CON) in a pushed section and takes no request; started again, it comes back UP", async () => {
    stopHttpd(backends[1]!);
    const down = await pushed((lb) => stateOf(lb, "b2") === "down", "b2 DOWN");
    expect(down.balancers[0]!.servers.find((s) => s.name === "b2")).toMatchObject({ status: "DOWN", checkStatus: "L4CON" });
    expect([fetchInEdge(), fetchInEdge()]).toEqual(["hello from b1", "hello from b1"]);
    startHttpd(backends[1]!);
    await pushed((lb) => stateOf(lb, "b2") === "up", "b2 UP again");
    const stat = await call("lb.stat", { name: "web" });
    expect(stat.servers.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([["b1", "up"], ["b2", "up"]]);
  });
});
