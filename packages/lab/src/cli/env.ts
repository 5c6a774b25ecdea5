import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What the lab CLI reads from the environment; the one place it reads it. */
export interface LabEnv {
  /** Data dir of the lab the CLI serves or talks to. */
  NIMBUS_LAB_DIR?: string;
  /** The server's data dir: its embedded lab lives in DIR/lab. */
  NIMBUS_DATA_DIR?: string;
}

/**
 * Where the lab's data dir is: $NIMBUS_LAB_DIR, else the embedded lab of the server whose
 * $NIMBUS_DATA_DIR is set (DIR/lab, where the server starts it), else `.nimbus/lab` under the
 * repository root (where pnpm-workspace.yaml is; the server's default data dir is `.nimbus`).
 */
export function defaultDataDir(env: LabEnv = process.env): string {
  if (env.NIMBUS_LAB_DIR) return resolve(env.NIMBUS_LAB_DIR);
  if (env.NIMBUS_DATA_DIR) return resolve(env.NIMBUS_DATA_DIR, "lab");
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, ".nimbus", "lab");
    const up = dirname(dir);
    if (up === dir) return resolve(".nimbus", "lab");
    dir = up;
  }
}
