import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { HostKeyStore } from "../src/ssh/host-keys.js";
import { generateEd25519 } from "../src/ssh/keygen.js";

describe("ed25519 keys", () => {
  it("always parse back (ssh2's generator alone yields an unreadable key about 1 time in 256)", () => {
    for (let i = 0; i < 1_000; i++) expect(ssh2.utils.parseKey(generateEd25519().private)).not.toBeInstanceOf(Error);
  });
});

describe("HostKeyStore", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "nimbus-keys-"));

  it("persists keys, rotates and restores", () => {
    const d = dir();
    try {
      const path = join(d, "host-keys.json");
      const a = HostKeyStore.open(path, ["kvm1", "kvm2"]);
      const fp = a.fingerprint("kvm1");
      expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(HostKeyStore.open(path, ["kvm1", "kvm2"]).fingerprint("kvm1")).toBe(fp);
      a.rotate("kvm1");
      a.rotate("kvm1");
      expect(HostKeyStore.open(path, ["kvm1"]).fingerprint("kvm1")).not.toBe(fp);
      a.restore("kvm1");
      expect(HostKeyStore.open(path, ["kvm1"]).fingerprint("kvm1")).toBe(fp);
      expect(() => a.restore("kvm2")).toThrow("kvm2's host key was never changed");
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("replaces a stored key that does not parse", () => {
    const d = dir();
    try {
      const path = join(d, "host-keys.json");
      writeFileSync(path, JSON.stringify({ version: 1, keys: { kvm1: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" } } }));
      const store = HostKeyStore.open(path, ["kvm1"]);
      expect(ssh2.utils.parseKey(store.privateKey("kvm1"))).not.toBeInstanceOf(Error);
      expect(readFileSync(path, "utf8")).not.toContain("AAAA\\n");
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
