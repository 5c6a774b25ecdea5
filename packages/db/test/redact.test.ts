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
    expect(out.s.length).toBe(201);
    expect(out.a).toHaveLength(51);
    expect(out.a[50]).toBe("… 10 more");
  });
});

describe("redactSecrets against hostile input", () => {
  it("keeps the first keys of an object with very many and says how many it dropped", () => {
    const huge = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    const out = redactSecrets(huge) as Record<string, unknown>;
    expect(Object.keys(out)).toHaveLength(51);
    expect(out["…"]).toBe("99950 more keys");
  });

  it("cuts a long key name", () => {
    const out = redactSecrets({ ["k".repeat(5000)]: 1 }) as Record<string, unknown>;
    expect(Object.keys(out)[0]!.length).toBe(201);
  });
});

it("keeps a bounded summary of a deep, wide input (125,000 strings of 1,000 characters)", () => {
  const level = (d: number): unknown => (d === 0 ? "x".repeat(1000) : Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, level(d - 1)])));
  expect(JSON.stringify(redactSecrets(level(3))).length).toBeLessThan(16_000);
});
