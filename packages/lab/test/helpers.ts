import type { JobContext } from "@nimbus/agent";
import { defaultScenario } from "../src/scenario/load.js";
import { Scenario } from "../src/scenario/schema.js";
import { World } from "../src/world/world.js";

/** Polls a condition (no fixed sleeps): resolves when it holds, fails with `what` after the timeout. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A job context that records every progress report and can be cancelled. */
export function jobContext<P>(): JobContext<P> & { reports: P[]; cancel(): void } {
  const abort = new AbortController();
  const reports: P[] = [];
  return { reports, signal: abort.signal, report: (p) => reports.push(p), cancel: () => abort.abort() };
}

export const TEST_SPEED = 40;

/** A world on the default scenario (or a variant), fast, without cosmetic CPU jitter. */
export function testWorld(edit?: (s: Scenario) => Scenario): World {
  const base = defaultScenario();
  return new World(edit ? Scenario.parse(edit(base)) : base, { speed: TEST_SPEED, jitter: false });
}

export const MIGRATE_DEFAULTS = { bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false };
export const migrateParams = (domain: string, host: string, jobId = `job-${domain}-${host}`) => ({
  jobId,
  domain,
  destination: { host, uri: `qemu+ssh://${host}/system` },
  options: MIGRATE_DEFAULTS,
});

/** Where a VM is defined now, across all hypervisors. */
export function placesOf(world: World, vm: string): { host: string; state: string }[] {
  return [...world.hypervisors.values()].flatMap((hv) => {
    const d = hv.domains.get(vm);
    return d ? [{ host: hv.name, state: d.state }] : [];
  });
}
