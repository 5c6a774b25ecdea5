import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLab, type Lab } from "@nimbus/lab";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent } from "../src/contract.js";
import { Fleet } from "../src/fleet.js";
import { MemoryKnownHosts } from "../src/memory-stores.js";
import { FakeWorld } from "./fixtures/fake-world.js";
import { FAST_TIMING, fleetHarness } from "./helpers/fleet-harness.js";
import { sshKeyPair } from "./helpers/keys.js";
import { probeLog } from "./helpers/probe-log.js";
import { silentLink } from "./helpers/silent-link.js";
import { eventually, hostState } from "./helpers/wait.js";

/** Liveness from traffic: silent agents are probed, a silent link ends like a keepalive timeout. */

const lostEvents = (fleet: Fleet, host: string) => {
  const seen: string[] = [];
  fleet.subscribe((e: FleetEvent) => {
    if (e.type === "host" && e.host.name === host && e.host.connection.state !== "online") seen.push(e.host.connection.state);
  });
  return seen;
};

describe("liveness of idle agents (they push nothing)", () => {
  let harness: Awaited<ReturnType<typeof fleetHarness>>;
  afterEach(() => harness?.close());

  // Lost after 600 ms of silence: each test below stays silent well past that.
  const liveness = { keepaliveMs: 200, keepaliveCountMax: 3 };

  it("probes an idle agent once per interval and keeps it online: its answers are traffic", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "kvm1", drivers: world.drivers("kvm1") }]);
    const log = probeLog();
    const fleet = harness.fleet({ ...liveness, logger: log.logger });
    await fleet.start();
    const lost = lostEvents(fleet, "kvm1");
    await eventually(() => log.probesOf("kvm1") >= 6, "six probes of kvm1 (1.2 s of silence)");
    expect(lost).toEqual([]);
    expect(fleet.host("kvm1")?.connection.state).toBe("online");
    expect(await fleet.request("kvm1", "ping", {})).toEqual({});
  });

  it("counts an agent older than ping as alive: its methodNotFound is an answer", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "kvm1", drivers: world.drivers("kvm1"), mode: "before-ping" }]);
    const log = probeLog();
    const fleet = harness.fleet({ ...liveness, logger: log.logger });
    await fleet.start();
    expect(fleet.host("kvm1")?.connection).toMatchObject({ state: "online", agentVersion: "0.0.9-test" });
    await expect(fleet.request("kvm1", "ping", {})).rejects.toThrow(/ping/);
    const lost = lostEvents(fleet, "kvm1");
    await eventually(() => log.probesOf("kvm1") >= 6, "six probes of kvm1 (1.2 s of silence)");
    expect(lost).toEqual([]);
    expect(fleet.host("kvm1")?.connection.state).toBe("online");
  });

  it("probes nothing when keepaliveMs is 0", async () => {
    const world = new FakeWorld();
    harness = await fleetHarness([{ name: "kvm1", drivers: world.drivers("kvm1") }]);
    const off = probeLog();
    const fleet = harness.fleet({ keepaliveMs: 0, logger: off.logger });
    await fleet.start();
    // A second fleet on the same agent host with liveness on is the clock: four probes mean the
    // first one has been silent past the 600 ms limit too.
    const on = probeLog();
    await harness.fleet({ ...liveness, logger: on.logger }).start();
    await eventually(() => on.probesOf("kvm1") >= 4, "four probes by the fleet with liveness on");
    expect(off.probesOf("kvm1")).toBe(0);
    expect(fleet.host("kvm1")?.connection.state).toBe("online");
  });
});

describe("liveness against the lab (agents push all the time)", () => {
  let dataDir: string;
  let lab: Lab;
  let link: Awaited<ReturnType<typeof silentLink>>;
  const key = sshKeyPair();
  const fleets: Fleet[] = [];
  const keepaliveMs = 1_500;
  const keepaliveCountMax = 3;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "nimbus-fleet-liveness-"));
    lab = await startLab({ dataDir, clientPublicKeys: [key.public], speed: 10 });
    const kvm1 = lab.hosts.find((h) => h.name === "kvm1")!;
    link = await silentLink(kvm1);
  });
  afterEach(() => {
    for (const f of fleets.splice(0)) f.stop();
    link.unmute();
  });
  afterAll(async () => {
    await link?.close();
    await lab?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The lab's hosts, kvm1 reached through the link that can go silent. */
  async function onlineFleet() {
    const log = probeLog();
    const hosts = lab.hosts.map((h) => (h.name === "kvm1" ? { ...h, address: link.address, port: link.port } : h));
    const fleet = new Fleet({ hosts, privateKey: key.private, knownHosts: new MemoryKnownHosts(), connectTimeoutMs: 1_000, timing: FAST_TIMING, keepaliveMs, keepaliveCountMax, logger: log.logger });
    fleets.push(fleet);
    await fleet.start();
    expect(fleet.host("kvm1")?.connection.state).toBe("online");
    return { fleet, probesOf: log.probesOf };
  }

  it("declares a host whose link went silent unreachable within keepaliveMs * countMax, and reconnects when it is back", async () => {
    const { fleet, probesOf } = await onlineFleet();
    const limit = keepaliveMs * keepaliveCountMax;
    const mutedAt = Date.now();
    link.mute();
    // + one sweep interval (keepaliveMs / 3) and scheduling slack.
    const down = await hostState(fleet, "kvm1", "unreachable", limit + keepaliveMs / 3 + 1_500);
    const tookMs = Date.now() - mutedAt;
    expect(tookMs).toBeGreaterThanOrEqual(limit - 600); // the last push may have come up to 500 ms before the cut
    expect(down.connection.message).toBe("kvm1: connection lost (kvm1: Keepalive timeout)");
    expect(probesOf("kvm1")).toBeGreaterThanOrEqual(1);
    expect(probesOf("kvm1")).toBeLessThanOrEqual(keepaliveCountMax - 1);
    // Reconnect attempts meet a silent link too: the handshake's readyTimeout keeps it unreachable.
    await eventually(() => fleet.host("kvm1")!.connection.nextRetryAt !== down.connection.nextRetryAt, "a failed reconnect attempt", 5_000);
    expect(fleet.host("kvm1")?.connection.state).toBe("unreachable");
    link.unmute();
    await hostState(fleet, "kvm1", "online", 10_000);
  });

  it("never probes a busy host, while quiet ones are probed", async () => {
    const { fleet, probesOf } = await onlineFleet();
    let pushes = 0;
    fleet.subscribe((e) => {
      if (e.type === "host" && e.host.name === "kvm2" && e.changed.includes("node")) pushes++;
    });
    // kvm2's load swings every 200 ms, so its agent pushes its node facts that often; the lab's
    // other hosts report only now and then (past the node driver's thresholds).
    const kvm2 = lab.world.host("kvm2");
    const swing = setInterval(() => {
      kvm2.cpuUsagePct = kvm2.cpuUsagePct > 50 ? 20 : 80;
      lab.world.changed("kvm2", "node");
    }, 200);
    try {
      // Sixteen pushes, 200 ms apart: long enough for a silent host to be probed twice.
      await eventually(() => pushes >= 16, "sixteen node pushes from kvm2", 10_000);
    } finally {
      clearInterval(swing);
    }
    expect(probesOf("kvm2")).toBe(0);
    expect(lab.hosts.filter((h) => h.name !== "kvm2").some((h) => probesOf(h.name) > 0)).toBe(true);
    expect(fleet.host("kvm2")?.connection.state).toBe("online");
  });
});
