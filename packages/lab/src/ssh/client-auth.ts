import { timingSafeEqual } from "node:crypto";
// ssh2 is CommonJS: Node sees only its default export from ESM.
import ssh2, { type ParsedKey, type PublicKeyAuthContext } from "ssh2";

const { utils } = ssh2;

/** Parses the client public keys a lab accepts (OpenSSH "ssh-ed25519 AAAA..." lines). */
export function parseAuthorizedKeys(keys: readonly (string | Buffer)[]): ParsedKey[] {
  return keys.map((k, i) => {
    const parsed = utils.parseKey(k);
    if (parsed instanceof Error) throw new Error(`client public key #${i + 1} cannot be parsed: ${parsed.message}`);
    return Array.isArray(parsed) ? parsed[0]! : parsed;
  });
}

/**
 * Public-key auth the way ssh2's server example does it: the offered key must equal an
 * authorized one (type and key blob, compared in constant time), and when the client sends a
 * signature it must verify. Without a signature the client only asks whether the key would do.
 */
export function publicKeyAccepted(ctx: PublicKeyAuthContext, authorized: readonly ParsedKey[]): boolean {
  const key = authorized.find((k) => {
    const blob = k.getPublicSSH();
    return ctx.key.algo === k.type && ctx.key.data.length === blob.length && timingSafeEqual(ctx.key.data, blob);
  });
  if (!key) return false;
  if (!ctx.signature) return true;
  return ctx.blob !== undefined && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}
