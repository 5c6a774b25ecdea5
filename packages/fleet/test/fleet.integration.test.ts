import type { FleetEvent } from "../src/contract.js";
import { afterEach, describe, expect, it } from "vitest";
import { FakeWorld } from "./fixtures/fake-world.js";
import { FAST_TIMING, fleetHarness } from "./helpers/fleet-harness.js";
import { sshKeyPair } from "./helpers/keys.js";
import { eventually, hostState, nextEvent } from "./helpers/wait.js";

let harness: Awaited<ReturnType<typeof fleetHarness>>;
afterEach(() => harness?.close());

const hostEvent = (host: string, pattern: RegExp) => (e: FleetEvent) => e.type === "host-event" && e.host === host && pattern.test(e.message);

async function twoHosts(world = new FakeWorld()) {
  world.addDomain("kvm1", "web-1");
  harness = await fleetHarness([
    { name: "kvm1", drivers: world.drivers("kvm1") },
    { name: "kvm2", drivers: world.drivers("kvm2") },
  ]);
  const fleet = harness.fleet();
  await fleet.start();
  return { world, fleet };
}

describe("Fleet over SSH", () => {
  it("brings every host online with its inventory and pins its key", async () => {
    const { fleet } = await twoHosts();
    for (const name of ["kvm1", "kvm2"]) {
      const h = fleet.host(name)!;
      expect(h.connection).toMatchObject({ state: "online", agentVersion: "0.1.0-test", capabilities: ["virt", "net", "storage"], pinnedKey: harness.hosts[name]!.fingerprint, message: null });
      expect(h.connection.lastSeen).not.toBeNull();
      expect(h.inventory.node?.hostname).toBe(name);
    }
    expect(fleet.host("kvm1")!.inventory.virt?.domains.map((d) => d.name)).toEqual(["web-1"]);
    expect((await harness.knownHosts.get("kvm2"))?.fingerprint).toBe(harness.hosts.kvm2!.fingerprint);
  });

  it("replaces a section when the agent pushes it", async () => {
    const { world, fleet } = await twoHosts();
    const pushed = nextEvent(fleet, (e) => e.type === "host" && e.host.name === "kvm2" && e.changed.includes("virt"), "kvm2 virt push");
    world.addDomain("kvm2", "db-1");
    const e = (await pushed) as Extract<FleetEvent, { type: "host" }>;
    expect(e.changed).toEqual(["virt"]);
    expect(e.host.inventory.virt?.domains.map((d) => d.name)).toEqual(["db-1"]);
    expect(fleet.host("kvm2")).toBe(e.host);
  });

  it("routes requests to the host's agent, and names unknown hosts", async () => {
    const { fleet } = await twoHosts();
    await expect(fleet.request("kvm1", "swarm.joinTokens", {})).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: "kvm1: swarm.joinTokens failed: swarm is not available on this host" });
    await expect(fleet.request("kvm1", "job.list", {})).resolves.toEqual([]);
    await expect(fleet.request("nope", "job.list", {})).rejects.toMatchObject({ code: "NOT_FOUND", message: "host nope is not part of the fleet" });
  });

  it("blocks a host whose key changed until an admin accepts the new key", async () => {
    const { fleet } = await twoHosts();
    const pinned = harness.hosts.kvm1!.fingerprint;
    const blocked = hostState(fleet, "kvm1", "key-changed");
    await harness.hosts.kvm1!.changeHostKey();
    const h = await blocked;
    const offered = harness.hosts.kvm1!.fingerprint;
    expect(h.connection).toMatchObject({ pinnedKey: pinned, offeredKey: offered, nextRetryAt: null });
    expect(h.connection.message).toContain("host key changed");
    await expect(fleet.request("kvm1", "job.list", {})).rejects.toMatchObject({ code: "HOST_UNREACHABLE", message: expect.stringMatching(/^kvm1 is key-changed: kvm1: host key changed/) });

    const online = hostState(fleet, "kvm1", "online");
    await fleet.acceptHostKey("kvm1", offered, "Ada");
    expect((await online).connection).toMatchObject({ pinnedKey: offered, offeredKey: null });
    expect((await harness.knownHosts.get("kvm1"))?.fingerprint).toBe(offered);
    await expect(fleet.acceptHostKey("kvm1", offered)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  /** kvm1 online, then presenting a new key: blocked. */
  async function kvm1KeyChanged() {
    const { fleet } = await twoHosts();
    const pinned = harness.hosts.kvm1!.fingerprint;
    const blocked = hostState(fleet, "kvm1", "key-changed");
    await harness.hosts.kvm1!.changeHostKey();
    return { fleet, pinned, offered: (await blocked).connection.offeredKey! };
  }

  it("accepts only the key the admin named: a host presenting another one now is refused, the pin unchanged", async () => {
    const { fleet, pinned, offered } = await kvm1KeyChanged();
    // The admin read a fingerprint earlier (or was told one); the host now presents this other key.
    const seen = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    await expect(fleet.acceptHostKey("kvm1", seen)).rejects.toMatchObject({
      code: "CONFLICT",
      message: `kvm1 now presents the key ${offered}, not ${seen}; nothing was accepted. Check the new fingerprint with the host's administrator before accepting it.`,
    });
    expect((await harness.knownHosts.get("kvm1"))?.fingerprint).toBe(pinned);
    expect(fleet.host("kvm1")!.connection.state).toBe("key-changed");
  });

  it("refuses an accept when the pin changed meanwhile (accepted by another server), and looks again", async () => {
    const { fleet, pinned, offered } = await kvm1KeyChanged();
    await harness.knownHosts.replace("kvm1", pinned, { fingerprint: "SHA256:elsewhere", key: "another replica's choice" });
    await expect(fleet.acceptHostKey("kvm1", offered)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("its pinned key changed meanwhile") });
    expect((await harness.knownHosts.get("kvm1"))?.fingerprint).toBe("SHA256:elsewhere");
  });

  it("on a first start, pins every host without reading the store per host", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([
      { name: "kvm1", drivers: world.drivers("kvm1") },
      { name: "kvm2", drivers: world.drivers("kvm2") },
    ]);
    let gets = 0;
    const original = harness.knownHosts.get.bind(harness.knownHosts);
    harness.knownHosts.get = (host) => (gets++, original(host));
    const fleet = harness.fleet();
    await fleet.start();
    expect(gets).toBe(0);
    expect((await harness.knownHosts.list()).map((p) => p.host).sort()).toEqual(["kvm1", "kvm2"]);
  });

  it("after a restart, first connections use the pins listed once at start, and still catch a changed key", async () => {
    const { fleet } = await twoHosts();
    fleet.stop();
    await harness.hosts.kvm2!.changeHostKey();
    let gets = 0;
    const original = harness.knownHosts.get.bind(harness.knownHosts);
    harness.knownHosts.get = (host) => (gets++, original(host));
    const restarted = harness.fleet();
    await restarted.start();
    expect(gets).toBe(0);
    expect(restarted.host("kvm1")!.connection.state).toBe("online");
    expect(restarted.host("kvm2")!.connection).toMatchObject({ state: "key-changed", offeredKey: harness.hosts.kvm2!.fingerprint });
    // A reconnect reads the store again (another server may have accepted the key meanwhile).
    const before = (await harness.knownHosts.get("kvm2"))!.fingerprint;
    await harness.knownHosts.replace("kvm2", before, { fingerprint: harness.hosts.kvm2!.fingerprint, key: "accepted elsewhere" });
    const online = hostState(restarted, "kvm2", "online");
    restarted.reconnect("kvm2");
    await online;
    expect(gets).toBeGreaterThan(0);
  });

  it("marks a dropped host unreachable, then reconnects with a fresh snapshot", async () => {
    const { world, fleet } = await twoHosts();
    const lost = hostState(fleet, "kvm2", "unreachable");
    await harness.hosts.kvm2!.stop();
    const down = await lost;
    expect(down.connection.lastSeen).not.toBeNull();
    expect(down.connection.nextRetryAt).not.toBeNull();
    expect(down.connection.message).toMatch(/^kvm2: connection lost/);
    await expect(fleet.request("kvm2", "job.list", {})).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });

    // Changed while we could not see it: the reconnect must bring a fresh snapshot.
    world.addDomain("kvm2", "late-1");
    const back = hostState(fleet, "kvm2", "online");
    await harness.hosts.kvm2!.restart();
    expect((await back).inventory.virt?.domains.map((d) => d.name)).toEqual(["late-1"]);
  });

  it("keeps retrying a host that stays down, with the reason shown", async () => {
    const { fleet } = await twoHosts();
    const lost = hostState(fleet, "kvm2", "unreachable");
    await harness.hosts.kvm2!.stop();
    await lost;
    const retried = await nextEvent(fleet, (e) => e.type === "host" && e.host.name === "kvm2" && /ECONNREFUSED/.test(e.host.connection.message ?? ""), "a failed retry");
    expect((retried as Extract<FleetEvent, { type: "host" }>).host.connection.state).toBe("unreachable");
  });

  it("reports a login-shell banner before the agent's first line without going offline", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "chatty", drivers: world.drivers("chatty"), mode: "garbage" }]);
    const fleet = harness.fleet();
    const warned = nextEvent(fleet, hostEvent("chatty", /^chatty: agent sent a line that is not JSON/), "garbage warning");
    await fleet.start();
    expect(fleet.host("chatty")!.connection.state).toBe("online");
    expect(await warned).toMatchObject({ level: "warn" });
  });

  it("shows agent-missing with the shell's complaint when the agent is not installed", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "bare", drivers: world.drivers("bare"), mode: "missing" }]);
    const fleet = harness.fleet();
    await fleet.start();
    const { connection } = fleet.host("bare")!;
    expect(connection.state).toBe("agent-missing");
    expect(connection.message).toBe("bare: the agent ended before answering (exit 127): sh: 1: nimbus-agent: not found");
    expect(Date.parse(connection.nextRetryAt!) - Date.now()).toBeGreaterThan(FAST_TIMING.slowRetryMs / 2);
  });

  it("treats a link lost while the agent starts as unreachable, not as a missing agent", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "flaky", drivers: world.drivers("flaky"), mode: "drop" }]);
    const fleet = harness.fleet();
    await fleet.start();
    expect(fleet.host("flaky")!.connection).toMatchObject({ state: "unreachable", message: "flaky: connection closed before hello was answered" });
    const back = hostState(fleet, "flaky", "online");
    harness.hosts.flaky!.mode = "agent";
    await back;
  });

  it("runs the ensureAgent hook before starting the agent", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "fresh", drivers: world.drivers("fresh") }]);
    const prepared: string[] = [];
    const fleet = harness.fleet({ ensureAgent: async (session) => void prepared.push(`${session.host} ${session.hostKey.fingerprint}`) });
    await fleet.start();
    expect(fleet.host("fresh")!.connection.state).toBe("online");
    expect(prepared).toEqual([`fresh ${harness.hosts.fresh!.fingerprint}`]);
  });

  it("shows agent-missing when the ensureAgent hook cannot install the agent", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "nonode", drivers: world.drivers("nonode") }]);
    const fleet = harness.fleet({ ensureAgent: () => Promise.reject(new Error("node: not found; install Node.js 20")) });
    await fleet.start();
    expect(fleet.host("nonode")!.connection).toMatchObject({ state: "agent-missing", message: "nonode: could not install the agent: node: not found; install Node.js 20" });
    expect(harness.hosts.nonode!.commands).toEqual([]);
  });

  it("stops at protocol-mismatch with a clear message instead of retrying quickly", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "old", drivers: world.drivers("old"), mode: "old-protocol" }]);
    const fleet = harness.fleet();
    await fleet.start();
    const { connection } = fleet.host("old")!;
    expect(connection).toMatchObject({ state: "protocol-mismatch", message: "old: agent 9.0.0 speaks protocol 99, this server speaks 1; install a matching agent" });
    expect(Date.parse(connection.nextRetryAt!) - Date.now()).toBeGreaterThan(FAST_TIMING.slowRetryMs / 2);
    expect(harness.hosts.old!.commands).toHaveLength(1);
  });

  it("shows auth-failed when the host refuses the server's key", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "locked", drivers: world.drivers("locked") }]);
    const fleet = harness.fleet({ privateKey: sshKeyPair().private });
    await fleet.start();
    expect(fleet.host("locked")!.connection).toMatchObject({ state: "auth-failed", message: expect.stringMatching(/^locked: authentication refused/) });
  });

  it("announces maintenance changes", async () => {
    const { fleet } = await twoHosts();
    const changed = nextEvent(fleet, (e) => e.type === "host" && e.changed.includes("maintenance"), "maintenance");
    fleet.setMaintenance("kvm1", true);
    expect(((await changed) as Extract<FleetEvent, { type: "host" }>).host).toMatchObject({ name: "kvm1", maintenance: true });
  });

  it("adds and removes hosts at run time", async () => {
    const { fleet } = await twoHosts();
    const removedHost = harness.hosts.kvm2!;
    fleet.removeHost("kvm2");
    expect(fleet.host("kvm2")).toBeUndefined();
    fleet.addHost(removedHost.config());
    await hostState(fleet, "kvm2", "online");
    expect(() => fleet.addHost(removedHost.config())).toThrow(/already part of the fleet/);
  });

  it("stop() closes every connection", async () => {
    const { fleet } = await twoHosts();
    fleet.stop();
    await eventually(() => harness.hosts.kvm1!.connectedClients === 0 && harness.hosts.kvm2!.connectedClients === 0, "hosts to see the server leave");
  });
});
