import { createHash } from "node:crypto";

/**
 * The digest of a service's environment (sorted `KEY=value` lines), so a stack diff can say
 * "changed" without any value leaving the manager. Agents report it for each service; the
 * server computes it for the file. Its own module (node:crypto): not for the browser bundle.
 */
export function envDigest(lines: readonly string[]): string {
  return createHash("sha256").update([...lines].sort().join("\n")).digest("hex").slice(0, 16);
}
