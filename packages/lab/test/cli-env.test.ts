import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defaultDataDir } from "../src/cli/env.js";
import { ensureClientKey } from "../src/fleet-file.js";

describe("the lab CLI's data dir", () => {
  it("is the embedded lab of the server whose NIMBUS_DATA_DIR is set (pnpm lab fault next to a running server)", () => {
    expect(defaultDataDir({ NIMBUS_DATA_DIR: "/srv/nimbus" })).toBe("/srv/nimbus/lab");
  });

  it("is NIMBUS_LAB_DIR first, when both are set", () => {
    expect(defaultDataDir({ NIMBUS_LAB_DIR: "/tmp/lab-a", NIMBUS_DATA_DIR: "/srv/nimbus" })).toBe("/tmp/lab-a");
  });

  it("is .nimbus/lab under the repository root otherwise (the server's default data dir is .nimbus)", () => {
    expect(defaultDataDir({})).toBe(resolve(__dirname, "../../..", ".nimbus", "lab"));
  });

  it("is created, owner-only, by serve's first step when it does not exist yet", () => {
    const root = mkdtempSync(join(tmpdir(), "nimbus-lab-cli-"));
    try {
      const dir = join(root, "not", "there", "yet");
      const key = ensureClientKey(dir);
      expect(existsSync(key.privateKeyPath)).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      // A second run keeps the key a running server already uses.
      expect(ensureClientKey(dir).publicKey).toBe(key.publicKey);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
