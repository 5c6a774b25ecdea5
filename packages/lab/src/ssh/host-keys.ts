import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import ssh2 from "ssh2";
import { z } from "zod";
import { generateEd25519 } from "./keygen.js";

const KeyFile = z.object({
  version: z.literal(1),
  keys: z.record(z.string(), z.object({ privateKey: z.string(), previous: z.string().optional() })),
});
type KeyFile = z.infer<typeof KeyFile>;

/**
 * ed25519 host keys of every lab host, generated at first start and kept in the data dir so a
 * client's pins stay valid across lab restarts. One file for all hosts: 2,000 hosts would
 * otherwise be 2,000 files. A rotated key remembers its predecessor so the fault can be undone.
 */
export class HostKeyStore {
  private constructor(
    private readonly path: string,
    private readonly file: KeyFile,
  ) {}

  static open(path: string, hosts: readonly string[]): HostKeyStore {
    let file: KeyFile = { version: 1, keys: {} };
    try {
      file = KeyFile.parse(JSON.parse(readFileSync(path, "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`host key file ${path} is unreadable: ${(err as Error).message}`);
    }
    const store = new HostKeyStore(path, file);
    // Keys an older ssh2 generator wrote unreadable are replaced (see keygen.ts).
    const missing = hosts.filter((h) => !file.keys[h] || ssh2.utils.parseKey(file.keys[h].privateKey) instanceof Error);
    for (const h of missing) file.keys[h] = { privateKey: newKey() };
    if (missing.length) store.save();
    return store;
  }

  /** The private key in OpenSSH format, as ssh2's `Server({ hostKeys })` wants it. */
  privateKey(host: string): Buffer {
    return Buffer.from(this.entry(host).privateKey);
  }

  /** OpenSSH-style fingerprint ("SHA256:..."), what a client pins. */
  fingerprint(host: string): string {
    return fingerprintOf(this.entry(host).privateKey);
  }

  rotate(host: string): void {
    const e = this.entry(host);
    this.file.keys[host] = { privateKey: newKey(), previous: e.previous ?? e.privateKey };
    this.save();
  }

  /** Back to the key before the first rotation. */
  restore(host: string): void {
    const e = this.entry(host);
    if (!e.previous) throw new Error(`${host}'s host key was never changed`);
    this.file.keys[host] = { privateKey: e.previous };
    this.save();
  }

  private entry(host: string) {
    const e = this.file.keys[host];
    if (!e) throw new Error(`no host key for ${host}`);
    return e;
  }

  private save() {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.file), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

const newKey = () => generateEd25519().private;

export function fingerprintOf(privateOrPublicKey: string | Buffer): string {
  const parsed = ssh2.utils.parseKey(privateOrPublicKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  return `SHA256:${createHash("sha256").update(key.getPublicSSH()).digest("base64").replace(/=+$/, "")}`;
}
