import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentErrorCode, type LbApplyInput, type LbRuntime } from "@nimbus/domain";
import type { AgentError } from "../../src/errors.js";
import { RealHaproxyDriver } from "../../src/real/haproxy.js";

/**
 * A real HAProxy (Debian's haproxy, see scripts/test-tools.txt) on loopback in front of three
 * loopback HTTP servers this test starts and stops: lb-apply's steps, `show stat`, a backend
 * taken out and brought back, a reload under traffic, a configuration HAProxy refuses.
 */
interface Backend {
  name: string;
  port: number;
  server: Server | null;
}
const backends: Backend[] = [];
let dir: string;
let driver: RealHaproxyDriver;
let frontPort: number;

const freePort = async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
};
async function start(b: Backend) {
  b.server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`hello from ${b.name}\n`));
  await new Promise<void>((r) => b.server!.listen(b.port, "127.0.0.1", r));
}
async function stop(b: Backend) {
  const s = b.server;
  b.server = null;
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
}
const fetchFront = () =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    get({ host: "127.0.0.1", port: frontPort, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
/** Polls `show stat` until `test` holds (HAProxy's checks run every 200 ms here); fails after 10 s. */
async function statUntil(test: (lb: LbRuntime) => boolean): Promise<LbRuntime> {
  const until = Date.now() + 10_000;
  let last: LbRuntime | null = null;
  while (Date.now() < until) {
    last = await driver.stat("web");
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`show stat never matched; last: ${JSON.stringify(last?.servers.map((s) => [s.name, s.status]))}`);
}
const stateOf = (lb: LbRuntime, name: string) => lb.servers.find((s) => s.name === name)?.state;
const spec = (servers: string[]): LbApplyInput => ({
  name: "web",
  bind: { address: "127.0.0.1", port: frontPort },
  mode: "http",
  check: { interMs: 200, timeoutMs: 200, rise: 2, fall: 2, httpPath: "/", expectStatus: 200 },
  servers: backends.filter((b) => servers.includes(b.name)).map((b) => ({ name: b.name, address: "127.0.0.1", port: b.port })),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-lb-"));
  driver = new RealHaproxyDriver({ dir: join(dir, "lb"), pollMs: 100 });
  frontPort = await freePort();
  for (const name of ["node1", "node2", "node3"]) {
    const b = { name, port: await freePort(), server: null };
    backends.push(b);
    await start(b);
  }
});
afterAll(async () => {
  await driver?.remove("web").catch(() => undefined);
  for (const b of backends) await stop(b);
  rmSync(dir, { recursive: true, force: true });
});

describe("real HAProxy load balancer", () => {
  it("write, validate, start: both servers come UP, requests go round robin and show stat says who got what", async () => {
    const written = await driver.write(spec(["node1", "node2"]));
    expect(written.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await driver.validate("web")).output).toMatch(/valid/i);
    const started = await driver.reload("web");
    expect(started.how).toBe("started");
    // HAProxy starts servers UP with check status INI (not checked yet); wait for real checks.
    await statUntil((lb) => lb.servers.length === 2 && lb.servers.every((s) => s.state === "up" && s.checkStatus === "L7OK"));
    const bodies = [];
    for (let i = 0; i < 10; i++) bodies.push((await fetchFront()).body.trim());
    expect(bodies.filter((b) => b === "hello from node1").length).toBe(5);
    expect(bodies.filter((b) => b === "hello from node2").length).toBe(5);
    const lb = await driver.stat("web");
    expect(lb).toMatchObject({ running: true, pid: started.pid, configHash: written.configHash, error: null });
    expect(lb.servers.map((s) => [s.name, s.selected, s.checkStatus])).toEqual([
      ["node1", 5, "L7OK"],
      ["node2", 5, "L7OK"],
    ]);
    expect(lb.frontend?.sessionsTotal).toBeGreaterThanOrEqual(10);
    expect((await driver.snapshot()).balancers.map((b) => b.name)).toEqual(["web"]);
  });

  it("a backend that stops goes DOWN after `fall` failed checks and takes no requests; back, it comes UP", async () => {
    await stop(backends[1]!);
    const down = await statUntil((lb) => stateOf(lb, "node2") === "down");
    expect(down.servers.find((s) => s.name === "node2")).toMatchObject({ status: "DOWN", checkStatus: "L4CON" });
    for (let i = 0; i < 4; i++) expect((await fetchFront()).body.trim()).toBe("hello from node1");
    await start(backends[1]!);
    const up = await statUntil((lb) => stateOf(lb, "node2") === "up");
    expect(up.servers.find((s) => s.name === "node2")!.lastChangeAt).not.toBeNull();
  });

  it("a reload (SIGUSR2 to the master) under traffic drops no request and keeps the master", async () => {
    const before = await driver.stat("web");
    let failures = 0;
    let served = 0;
    let stopped = false;
    const traffic = (async () => {
      while (!stopped) {
        const r = await fetchFront().catch(() => ({ status: 0, body: "" }));
        if (r.status === 200) served++;
        else failures++;
      }
    })();
    await driver.write(spec(["node1", "node2", "node3"]));
    await driver.validate("web");
    const reloaded = await driver.reload("web");
    const after = await statUntil((lb) => stateOf(lb, "node3") === "up");
    stopped = true;
    await traffic;
    expect(reloaded).toEqual({ pid: before.pid, how: "reloaded" });
    expect(after.configHash).not.toBe(before.configHash);
    expect(served).toBeGreaterThan(0);
    expect(failures).toBe(0);
  });

  it("a configuration HAProxy refuses fails validate with its message and leaves the running one in place", async () => {
    const before = await driver.stat("web");
    await driver.write({ ...spec(["node1"]), servers: [{ name: "ghost", address: "no-such-host.invalid", port: 80 }] });
    const err = (await driver.validate("web").then(() => null, (e: unknown) => e)) as AgentError;
    expect(err.code).toBe(AgentErrorCode.toolFailed);
    expect(err.message).toMatch(/haproxy -c -f .* exited with \d+: .*no-such-host\.invalid/);
    const still = await driver.stat("web");
    expect(still.configHash).toBe(before.configHash);
    expect(still.servers.map((s) => s.name)).toEqual(["node1", "node2", "node3"]);
  });

  it("remove stops HAProxy and deletes its files; stat then says it is not configured", async () => {
    const pid = (await driver.stat("web")).pid!;
    await driver.remove("web");
    expect(existsSync(join(dir, "lb", "web"))).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await driver.stat("web")).toMatchObject({ running: false, error: "not configured" });
    await expect(fetchFront()).rejects.toThrow(/ECONNREFUSED/);
    expect((await driver.snapshot()).balancers).toEqual([]);
  });
});
