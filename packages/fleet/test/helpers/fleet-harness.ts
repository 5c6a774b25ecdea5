import type { AgentDrivers } from "@nimbus/agent";
import { Fleet, type FleetOptions } from "../../src/fleet.js";
import { MemoryKnownHosts } from "../../src/memory-stores.js";
import { AgentHost, type AgentMode } from "../fixtures/agent-host.js";
import { sshKeyPair } from "./keys.js";

/** Fast timings so reconnects happen within a test's patience. */
export const FAST_TIMING = {
  requestTimeoutMs: 3_000,
  handshakeTimeoutMs: 3_000,
  backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
  slowRetryMs: 60_000,
  exitGraceMs: 500,
};

/** Agent hosts on loopback plus a Fleet pointed at them; `close()` stops everything it started. */
export async function fleetHarness(hosts: { name: string; drivers: AgentDrivers; mode?: AgentMode }[], options: Partial<FleetOptions> = {}) {
  const key = sshKeyPair();
  const agentHosts = await Promise.all(hosts.map((h) => AgentHost.start({ ...h, clientPublicKey: key.public })));
  const knownHosts = new MemoryKnownHosts();
  const makeFleet = (extra: Partial<FleetOptions> = {}) =>
    new Fleet({
      hosts: agentHosts.map((h) => h.config()),
      privateKey: key.private,
      knownHosts,
      connectTimeoutMs: 2_000,
      timing: FAST_TIMING,
      ...options,
      ...extra,
    });
  const fleets: Fleet[] = [];
  return {
    key,
    knownHosts,
    hosts: Object.fromEntries(agentHosts.map((h) => [h.name, h])) as Record<string, AgentHost>,
    /** A new Fleet over the same hosts and known keys (a server restart). */
    fleet(extra: Partial<FleetOptions> = {}) {
      const f = makeFleet(extra);
      fleets.push(f);
      return f;
    },
    async close() {
      for (const f of fleets) f.stop();
      await Promise.all(agentHosts.map((h) => h.stop()));
    },
  };
}
