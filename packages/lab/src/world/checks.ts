import { CheckRunner, type ProbeFn } from "@nimbus/agent";
import type { World } from "./world.js";
import { labPortAnswers } from "./haproxy.js";

/**
 * Active checks on a lab host: the agent's own CheckRunner (rise/fall, schedule) with a probe
 * that asks the world instead of the network. 127.0.0.1 is the host itself; the NFS VIP is its
 * holder; any other address is the lab host that has it.
 */
export function labChecks(world: World, host: string): CheckRunner {
  // One runner per host for the world's life: every SSH session of the host shares it, as one agent daemon would.
  let hosts = runners.get(world);
  if (!hosts) runners.set(world, (hosts = new Map()));
  let runner = hosts.get(host);
  if (!runner) {
    const created = (runner = new CheckRunner(labProbe(world, host)));
    hosts.set(host, created);
    world.addTicker(() => created.stop());
  }
  return runner;
}
const runners = new WeakMap<World, Map<string, CheckRunner>>();

export function labProbe(world: World, from: string): ProbeFn {
  return async (probe) => {
    if (!world.isPoweredOn(from)) return { ok: false, message: "host is off" };
    const target = probe.host === "127.0.0.1" || probe.host === "localhost" ? from : probe.host === world.nfs.vip ? world.nfs.master : hostByAddress(world, probe.host);
    const answer = labPortAnswers(world, target, probe.port, probe.kind === "http" ? probe : undefined);
    if (probe.kind === "http") {
      // The real probe's words (agent/src/real/probe.ts).
      if (answer.ok) return { ok: true, message: probe.expectBody === null ? `HTTP ${answer.code}` : `HTTP ${answer.code}, body matches` };
      if (answer.status === "L7STS") return { ok: false, message: `HTTP ${answer.code}, expected ${probe.expectStatus}` };
      if (answer.status === "L7RSP") return { ok: false, message: `HTTP ${answer.code}, body lacks ${JSON.stringify(probe.expectBody)}` };
      return { ok: false, message: words(answer.status) };
    }
    return answer.ok || answer.status === "L7STS" ? { ok: true, message: "connected" } : { ok: false, message: words(answer.status) };
  };
}

const words = (status: string) => (status === "L4TOUT" ? "no connection within the timeout" : "connection refused");

function hostByAddress(world: World, address: string): string | null {
  for (const h of world.hosts.values()) if (h.address === address || h.name === address) return h.name;
  for (const s of world.nfs.servers) if (s.address === address) return s.name;
  return null;
}
