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

/**
 * A job context that records every progress report and can be cancelled. `reached(pred)` resolves
 * from inside the report that first satisfies it, so the test's next step (a cancel, a fault) runs
 * before the job's next tick; a 5 ms poll can wake only after the job has ended on a loaded machine.
 */
export function jobContext<P>(): JobContext<P> & { reports: P[]; cancel(): void; reached(pred: (p: P) => boolean): Promise<P> } {
  const abort = new AbortController();
  const reports: P[] = [];
  const waiting: { pred: (p: P) => boolean; resolve: (p: P) => void }[] = [];
  const report = (p: P) => {
    reports.push(p);
    for (const w of [...waiting])
      if (w.pred(p)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(p);
      }
  };
  const reached = (pred: (p: P) => boolean) => {
    const seen = reports.find(pred);
    return seen !== undefined ? Promise.resolve(seen) : new Promise<P>((resolve) => waiting.push({ pred, resolve }));
  };
  return { reports, signal: abort.signal, report, cancel: () => abort.abort(), reached };
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
