import ssh2, { type ParsedKey } from "ssh2";

/**
 * A host's private key (OpenSSH text) parsed once; ssh2.Server takes it as `hostKeys: [{ key }]`
 * (parseKey passes a parsed key through). Signing reuses one KeyObject per key (our ssh2 patch,
 * see ARCHITECTURE.md), so 2,000 simulated hosts do not decode their PEM at every handshake.
 */
export function parsedHostKey(privateKey: Buffer): ParsedKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error) throw new Error(`host key cannot be parsed: ${first instanceof Error ? first.message : "empty"}`);
  return first;
}
