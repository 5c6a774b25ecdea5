import { readFile, writeFile } from "node:fs/promises";
import type { Layout } from "./layout.js";

/** What `up` recorded: when, how long each phase took, what was checked. */
export interface LabState {
  startedAt: string;
  finishedAt: string | null;
  hypervisor: "kvm" | "tcg";
  timingsMs: Record<string, number>;
  checks: Record<string, string>;
}

export async function readState(l: Layout): Promise<LabState | null> {
  try {
    return JSON.parse(await readFile(l.state, "utf8")) as LabState;
  } catch {
    return null;
  }
}

export const writeState = (l: Layout, s: LabState) => writeFile(l.state, JSON.stringify(s, null, 2) + "\n");

/** Times phases of `up` into the state's timings. */
export function timer(state: LabState, log: (line: string) => void) {
  return async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await work();
    state.timingsMs[phase] = Date.now() - t0;
    log(`${phase}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
}
