import ssh2, { type ParsedKey } from "ssh2";
import { describe, expect, it } from "vitest";
import { parsedHostKey, withKeyObjects } from "../src/ssh/key-objects.js";
import { generateEd25519 as generateKeyPair } from "../src/ssh/keygen.js";

const parse = (k: string) => ssh2.utils.parseKey(k) as ParsedKey;

describe("keys bound to KeyObjects", () => {
  const pair = generateKeyPair("test");
  const data = Buffer.from("exchange hash");

  it("sign what ssh2's own verifier accepts, and verify what ssh2's own signer made", () => {
    const fast = parsedHostKey(Buffer.from(pair.private));
    expect(parse(pair.public).verify(data, fast.sign(data) as Buffer)).toBe(true);
    const fastPub = withKeyObjects(parse(pair.public));
    expect(fastPub.verify(data, parse(pair.private).sign(data) as Buffer)).toBe(true);
  });

  it("reject a signature over other data, or from another key", () => {
    const other = generateKeyPair("other");
    const fastPub = withKeyObjects(parse(pair.public));
    expect(fastPub.verify(Buffer.from("something else"), parse(pair.private).sign(data) as Buffer)).toBe(false);
    expect(fastPub.verify(data, parse(other.private).sign(data) as Buffer)).toBe(false);
  });

  it("refuse a host key that is not a key", () => {
    expect(() => parsedHostKey(Buffer.from("nonsense"))).toThrow(/host key cannot be parsed/);
  });
});
