import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import ssh2, { type ParsedKey } from "ssh2";

/**
 * ssh2 hands the key's PEM text to OpenSSL for every signature and verification, which parses
 * it again each time. 2,000 simulated hosts handshaking at once spent most of their CPU there, so
 * ed25519 keys (the lab's) get a signer and verifier bound to KeyObjects parsed once; other key
 * types keep ssh2's own.
 */
export function withKeyObjects(key: ParsedKey): ParsedKey {
  if (key.type !== "ssh-ed25519") return key;
  const pub: KeyObject = createPublicKey(key.getPublicPEM());
  key.verify = ((data: Buffer, signature: Buffer) => {
    try {
      return verify(null, data, pub, signature);
    } catch (err) {
      return err as Error;
    }
  }) as ParsedKey["verify"];
  if (key.isPrivateKey()) {
    const priv: KeyObject = createPrivateKey(key.getPrivatePEM());
    key.sign = ((data: Buffer) => {
      try {
        return sign(null, data, priv);
      } catch (err) {
        return err as Error;
      }
    }) as ParsedKey["sign"];
  }
  return key;
}

/** A host's private key (OpenSSH text) parsed once; ssh2.Server takes it as `hostKeys: [{ key }]` (parseKey passes a parsed key through). */
export function parsedHostKey(privateKey: Buffer): ParsedKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error) throw new Error(`host key cannot be parsed: ${first instanceof Error ? first.message : "empty"}`);
  return withKeyObjects(first);
}
