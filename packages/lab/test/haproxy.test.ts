import { afterEach, describe, expect, it } from "vitest";
import { AgentErrorCode, CheckSpec, type LbApplyInput, type LbRuntime } from "@nimbus/domain";
import type { AgentError } from "@nimbus/agent";
import { LabFaults } from "../src/faults.js";
import { labChecks } from "../src/world/checks.js";
import { LabHaproxyDriver } from "../src/world/haproxy.js";
import type { World } from "../src/world/world.js";
import { testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const nodes = () => [...world.swarm!.nodes.values()];
const apply = (over: Partial<LbApplyInput> = {}): LbApplyInput => ({
  name: "shop",
  bind: { address: "0.0.0.0", port: 80 },
  mode: "http",
  check: { interMs: 1000, timeoutMs: 500, rise: 2, fall: 3, httpPath: "/", expectStatus: 200 },
  servers: nodes().map((n) => ({ name: n.hostname, address: n.address, port: 8080 })),
  ...over,
});
const server = (lb: LbRuntime, name: string) => lb.servers.find((s) => s.name === name)!;

describe("lab HAProxy", () => {
  it("write, validate, reload: servers from the swarm nodes are checked (L7OK) and share the requests round robin", async () => {
    world = testWorld();
    const lb = new LabHaproxyDriver(world, "manager");
    expect((await lb.write(apply())).configHash).toMatch(/^[0-9a-f]{64}$/);
    await lb.validate("shop");
    expect(await lb.reload("shop")).toMatchObject({ how: "started" });
    let stat = await lb.stat("shop");
    expect(stat.servers.map((s) => [s.status, s.checkStatus])).toEqual([["UP", "INI"], ["UP", "INI"], ["UP", "INI"]]);
    const until = async (test: (s: LbRuntime) => boolean, what: string) => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        stat = await lb.stat("shop");
        if (test(stat)) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stat.servers.map((s) => [s.name, s.status, s.checkStatus]))}`);
    };
    await until((s) => s.servers.every((x) => x.checkStatus === "L7OK" && x.selected >= 4), "checks and traffic");
    const counts = stat.servers.map((s) => s.selected);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect((await lb.snapshot()).balancers.map((b) => b.name)).toEqual(["shop"]);

    // lb-backend-down: the node refuses; DOWN after fall (3) checks, no more requests; back UP after rise (2).
    const faults = new LabFaults(world);
    faults.backendDown("worker1");
    await until((s) => server(s, "worker1").status === "DOWN", "worker1 DOWN");
    expect(server(stat, "worker1")).toMatchObject({ state: "down", checkStatus: "L4CON", checkDescription: "Layer4 connection problem" });
    const frozen = server(stat, "worker1").selected;
    const managerBefore = server(stat, "manager").selected;
    await until((s) => server(s, "manager").selected > managerBefore + 3, "more traffic");
    expect(server(stat, "worker1").selected).toBe(frozen);
    faults.backendUp("worker1");
    await until((s) => server(s, "worker1").status === "UP", "worker1 UP");
  });

  it("a drained node is disabled (MAINT) and keeps no share; a reload keeps the master and the others' state", async () => {
    world = testWorld();
    const lb = new LabHaproxyDriver(world, "manager");
    await lb.write(apply());
    await lb.validate("shop");
    const first = await lb.reload("shop");
    await lb.write(apply({ servers: nodes().map((n) => ({ name: n.hostname, address: n.address, port: 8080, disabled: n.hostname === "worker2" })) }));
    await lb.validate("shop");
    expect(await lb.reload("shop")).toEqual({ pid: first.pid, how: "reloaded" });
    const stat = await lb.stat("shop");
    expect(server(stat, "worker2")).toMatchObject({ status: "MAINT", state: "maint", checkStatus: null });
  });

  it("validate refuses an address that does not resolve, as HAProxy does, and the running configuration stays", async () => {
    world = testWorld();
    const lb = new LabHaproxyDriver(world, "manager");
    await lb.write(apply());
    await lb.validate("shop");
    await lb.reload("shop");
    const hash = (await lb.stat("shop")).configHash;
    await lb.write(apply({ servers: [{ name: "ghost", address: "ghost.example", port: 80 }] }));
    const err = (await lb.validate("shop").then(() => null, (e: unknown) => e)) as AgentError;
    expect(err.code).toBe(AgentErrorCode.toolFailed);
    expect(err.message).toMatch(/could not resolve address 'ghost.example'/);
    expect((await lb.stat("shop")).configHash).toBe(hash);
    await expect(lb.validate("other")).rejects.toThrow(/write it first/);
    await lb.remove("shop");
    expect(await lb.stat("shop")).toMatchObject({ running: false, error: "not configured" });
  });

  it("active checks on a lab host: the published port through the mesh, DOWN under lb-backend-down, and NFS on the storage servers", async () => {
    world = testWorld();
    const timing = { intervalMs: 100, timeoutMs: 100, rise: 2, fall: 3 };
    const checks = labChecks(world, "worker1");
    expect(labChecks(world, "worker1")).toBe(checks);
    checks.configure([CheckSpec.parse({ id: "active:svc:web:8080:worker1", target: "web :8080 on worker1", category: "swarm", probe: { kind: "tcp", host: "127.0.0.1", port: 8080 }, timing })]);
    const status = async () => (await checks.snapshot()).checks[0]!;
    let c = await status();
    const until = async (want: string) => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && (c = await status()).status !== want) await new Promise((r) => setTimeout(r, 10));
      expect(c.status).toBe(want);
    };
    await until("up");
    new LabFaults(world).backendDown("worker1");
    await until("down");
    expect(c.lastResult).toBe("connection refused");

    const nfs = world.nfs.servers[0]!.name;
    const storageChecks = labChecks(world, nfs);
    storageChecks.configure([CheckSpec.parse({ id: `active:nfs-vip:${nfs}`, target: "VIP", category: "storage", probe: { kind: "tcp", host: world.nfs.vip, port: 2049 }, timing })]);
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await storageChecks.snapshot()).checks[0]!.status !== "up") await new Promise((r) => setTimeout(r, 10));
    expect((await storageChecks.snapshot()).checks[0]!.status).toBe("up");
  });
});
