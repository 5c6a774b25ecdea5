import ssh2, { type ParsedKey } from "ssh2";
import { describe, expect, it } from "vitest";
import { parsedHostKey } from "../src/ssh/key-objects.js";
import { generateEd25519 as generateKeyPair } from "../src/ssh/keygen.js";

const parse = (k: string) => ssh2.utils.parseKey(k) as ParsedKey;

describe("lab host keys", () => {
  const pair = generateKeyPair("test");
  const data = Buffer.from("exchange hash");

  it("sign what a client's ssh2 verifies, and not for other data", () => {
    const hostKey = parsedHostKey(Buffer.from(pair.private));
    const signature = hostKey.sign(data) as Buffer;
    expect(parse(pair.public).verify(data, signature)).toBe(true);
    expect(parse(pair.public).verify(Buffer.from("something else"), signature)).toBe(false);
    expect(parse(generateKeyPair("other").public).verify(data, signature)).toBe(false);
  });

  it("refuse a host key that is not a key", () => {
    expect(() => parsedHostKey(Buffer.from("nonsense"))).toThrow(/host key cannot be parsed/);
  });
});
