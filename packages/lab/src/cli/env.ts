import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The one place the lab CLI reads the environment. */
export const env = {
  /** Data dir of the lab the CLI serves or talks to. */
  labDir: process.env.NIMBUS_LAB_DIR,
};

/** `.nimbus/lab` under the repository root (where pnpm-workspace.yaml is), else under the cwd. */
export function defaultDataDir(): string {
  if (env.labDir) return resolve(env.labDir);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, ".nimbus", "lab");
    const up = dirname(dir);
    if (up === dir) return resolve(".nimbus", "lab");
    dir = up;
  }
}
