import { describe, expect, it } from "vitest";
import { REDACTED, redactSecrets } from "../src/index.js";

describe("redactSecrets", () => {
  it("replaces secret-named keys at any depth", () => {
    expect(
      redactSecrets({ email: "a@b", password: "x", nested: { newPassword: "y", apiKey: "k", token: "t", list: [{ secret: 1 }] }, key: "k" }),
    ).toEqual({ email: "a@b", password: REDACTED, nested: { newPassword: REDACTED, apiKey: REDACTED, token: REDACTED, list: [{ secret: REDACTED }] }, key: REDACTED });
  });

  it("keeps ordinary fields, including ones that merely contain 'key' in a longer name", () => {
    expect(redactSecrets({ hostKeyFingerprint: "SHA256:x", replicas: 3, ok: true, none: null })).toEqual({
      hostKeyFingerprint: "SHA256:x", replicas: 3, ok: true, none: null,
    });
  });

  it("cuts long strings and long arrays", () => {
    const out = redactSecrets({ s: "x".repeat(2000), a: Array.from({ length: 60 }, (_, i) => i) }) as { s: string; a: unknown[] };
    expect(out.s.length).toBe(501);
    expect(out.a).toHaveLength(51);
    expect(out.a[50]).toBe("… 10 more");
  });
});
