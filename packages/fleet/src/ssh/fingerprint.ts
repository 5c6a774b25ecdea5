import { createHash } from "node:crypto";

/** A host key as it is pinned: OpenSSH-style fingerprint plus the key itself ("ssh-ed25519 AAAA..."). */
export interface PinnedKey {
  fingerprint: string;
  key: string;
}

/** `SHA256:<base64 without padding>` of the raw key blob, exactly what `ssh-keygen -lf` prints. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type is the first string of the SSH wire format: uint32 length, then the name. */
function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const len = keyBlob.readUInt32BE(0);
  return len > 0 && len < 64 && keyBlob.length >= 4 + len ? keyBlob.subarray(4, 4 + len).toString("ascii") : "unknown";
}

export function pinnedKeyOf(keyBlob: Buffer): PinnedKey {
  return { fingerprint: sha256Fingerprint(keyBlob), key: `${keyType(keyBlob)} ${keyBlob.toString("base64")}` };
}
