import { hash, randomBytes } from "node:crypto";

/**
 * Identifiers. Those of things the scenario declares (VM UUIDs, MACs, swarm node and service
 * ids) are derived from names, so they stay the same across lab restarts and the server's
 * records keep matching; those of things created at run time (tasks, boot ids, tokens) are random.
 */
// One-shot: the same SHA-256 without a Hash object per call (a fresh 2,000-host lab derives
// ~36,000 interface MACs while the fleet connects: 3.4 -> 1.6 us each, measured).
const digest = (seed: string) => hash("sha256", seed, "buffer");

export function stableUuid(seed: string): string {
  const h = digest(`uuid:${seed}`).toString("hex");
  // Version 4 layout (variant bits set) so tools that validate UUIDs accept it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Every net section the lab serves names its interfaces' MACs: remembered, not re-hashed (a
// 2,000-host lab connecting at once spent ~5 % of its CPU hashing the same MACs).
const macs = new Map<string, string>();

/** A MAC in QEMU's locally administered 52:54:00 range, as libvirt assigns them. */
export function stableMac(seed: string): string {
  let mac = macs.get(seed);
  if (mac === undefined) {
    const b = digest(`mac:${seed}`);
    mac = ["52", "54", "00", ...[0, 1, 2].map((i) => b[i]!.toString(16).padStart(2, "0"))].join(":");
    macs.set(seed, mac);
  }
  return mac;
}

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const base36 = (bytes: Buffer, length: number) => Array.from({ length }, (_, i) => ALPHABET[bytes[i % bytes.length]! % 36]).join("");

/** Docker-style 25-character object id. */
export const stableDockerId = (seed: string) => base36(digest(`docker:${seed}`), 25);
export const randomDockerId = () => base36(randomBytes(25), 25);

/** `SWMTKN-1-<50 chars>-<25 chars>`: the cluster CA digest part is shared by both tokens. */
export function swarmJoinTokens(): { worker: string; manager: string } {
  const ca = base36(randomBytes(50), 50);
  return { worker: `SWMTKN-1-${ca}-${base36(randomBytes(25), 25)}`, manager: `SWMTKN-1-${ca}-${base36(randomBytes(25), 25)}` };
}

export const randomBootId = () => randomBytes(8).toString("hex");

/** A small, stable number from a name, for per-object variety (dirty rates, uptimes). */
export function nameHash(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 33 + c.charCodeAt(0)) >>> 0;
  return h;
}
