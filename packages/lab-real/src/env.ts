import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { z } from "zod";

/** The only place this package reads process.env. */
const Env = z.object({
  /** Where the lab keeps keys, configs, pid files and logs; default <repo>/.nimbus/lab-real. */
  NIMBUS_LAB_REAL_DIR: z.string().min(1).optional(),
});

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

export function labEnv() {
  const env = Env.parse(process.env);
  return {
    repoRoot,
    labDir: env.NIMBUS_LAB_REAL_DIR ? resolve(env.NIMBUS_LAB_REAL_DIR) : resolve(repoRoot, ".nimbus/lab-real"),
  };
}
