import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Scenario } from "./schema.js";

export const DEFAULT_SCENARIO_PATH = fileURLToPath(new URL("../../scenarios/default.json", import.meta.url));

/** Reads and validates a scenario file; the error names the file and every problem found. */
export function loadScenario(path: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`scenario ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(scenario)"}: ${i.message}`);
    throw new Error(`scenario ${path} is invalid:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

export const defaultScenario = (): Scenario => loadScenario(DEFAULT_SCENARIO_PATH);
