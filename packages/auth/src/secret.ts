import { hkdfSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { NimbusError } from "@nimbus/domain";

export const SECRET_FILE = "auth-secret";
const MIN_SECRET_LENGTH = 32;

/**
 * The key that signs session cookies. NIMBUS_AUTH_SECRET (passed in as `fromEnv`) wins; otherwise
 * a random one is generated on first start into `<stateDir>/auth-secret` (mode 0600) and read on
 * later starts. Several replicas must share one: the variable, or else one derived from the cluster
 * secret they already share (`clusterSecret`), never a file of each replica's own (a session made
 * through one replica would be refused by the next one the load balancer picks).
 */
export function resolveAuthSecret(opts: { fromEnv?: string | undefined; stateDir: string; clusterSecret?: string | undefined }): string {
  if (opts.fromEnv) {
    if (opts.fromEnv.length < MIN_SECRET_LENGTH) {
      throw new NimbusError("BAD_INPUT", `NIMBUS_AUTH_SECRET is ${opts.fromEnv.length} characters long; it needs at least ${MIN_SECRET_LENGTH}.`);
    }
    return opts.fromEnv;
  }
  if (opts.clusterSecret) return derivedFromClusterSecret(opts.clusterSecret);
  const file = path.join(opts.stateDir, SECRET_FILE);
  fs.mkdirSync(opts.stateDir, { recursive: true });
  try {
    // 'wx': two processes starting at once must not each write their own.
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const secret = fs.readFileSync(file, "utf8").trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new NimbusError("PRECONDITION_FAILED", `The auth secret in ${file} is too short; delete the file to generate a new one (this signs everyone out).`);
  }
  return secret;
}

/** A key of its own for session cookies (HKDF-SHA256, its own label): the cluster secret itself only authenticates replica-to-replica calls. */
function derivedFromClusterSecret(clusterSecret: string): string {
  return Buffer.from(hkdfSync("sha256", clusterSecret, "nimbus", "session cookies v1", 32)).toString("base64url");
}
