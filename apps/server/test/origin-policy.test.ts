import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { originPolicy, sameOrigin } from "../src/http/origin-policy.js";

const loopback = originPolicy({ bind: "127.0.0.1", port: 3000 });
const post = (headers: Record<string, string>) => ({ method: "POST", headers }) as unknown as IncomingMessage;

describe("origin policy", () => {
  it("serves the bound address, its loopback equivalents and IP literals", () => {
    for (const host of ["127.0.0.1:3000", "localhost:3000", "LOCALHOST:3000", "[::1]:3000", "10.0.0.5:3000", "127.0.0.1"]) {
      expect(loopback.hostAllowed(host), host).toBe(true);
    }
  });

  it("refuses other host names: a rebound name reaches the same socket but is not Nimbus", () => {
    for (const host of ["evil.example:3000", "evil.example", "localhost.evil.example:3000", "127.0.0.1.nip.io:3000", "evil.example@127.0.0.1", "127.0.0.1/x", "", undefined]) {
      expect(loopback.hostAllowed(host), String(host)).toBe(false);
    }
  });

  it("refuses a rebinding page's mutation even though its Origin matches its Host", () => {
    expect(sameOrigin(post({ host: "evil.example:3000", origin: "http://evil.example:3000" }), loopback)).toBe(false);
    expect(sameOrigin(post({ host: "evil.example:3000", referer: "http://evil.example:3000/x" }), loopback)).toBe(false);
  });

  it("allows our own pages, on the bound address and its loopback names", () => {
    expect(sameOrigin(post({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" }), loopback)).toBe(true);
    expect(sameOrigin(post({ host: "localhost:3000", origin: "http://localhost:3000" }), loopback)).toBe(true);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", referer: "http://127.0.0.1:3000/hosts" }), loopback)).toBe(true);
  });

  it("refuses other sites and other local ports", () => {
    expect(sameOrigin(post({ host: "127.0.0.1:3000", origin: "http://evil.example" }), loopback)).toBe(false);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", origin: "http://localhost:8080" }), loopback)).toBe(false);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", origin: "null" }), loopback)).toBe(false);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", referer: "not a url" }), loopback)).toBe(false);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" }), loopback)).toBe(false);
  });

  it("lets clients that are no browser through (no Origin, no Sec-Fetch-Site)", () => {
    expect(sameOrigin(post({ host: "127.0.0.1:3000" }), loopback)).toBe(true);
  });

  it("behind a TLS proxy takes the public origin, whatever Host the proxy forwards", () => {
    const proxied = originPolicy({ publicUrl: "https://nimbus.example.org", bind: "127.0.0.1", port: 3000 });
    expect(proxied.hostAllowed("nimbus.example.org")).toBe(true);
    expect(proxied.hostAllowed("evil.example")).toBe(false);
    expect(sameOrigin(post({ host: "127.0.0.1:3000", origin: "https://nimbus.example.org" }), proxied)).toBe(true);
    expect(sameOrigin(post({ host: "nimbus.example.org", origin: "https://nimbus.example.org" }), proxied)).toBe(true);
    expect(sameOrigin(post({ host: "nimbus.example.org", origin: "http://nimbus.example.org.evil.example" }), proxied)).toBe(false);
  });

  it("bound to every address, answers each address of the machine as its own origin", () => {
    const open = originPolicy({ bind: "0.0.0.0", port: 3000 });
    expect(sameOrigin(post({ host: "192.168.1.20:3000", origin: "http://192.168.1.20:3000" }), open)).toBe(true);
    expect(sameOrigin(post({ host: "192.168.1.20:3000", origin: "http://192.168.1.66:3000" }), open)).toBe(false);
    expect(open.hostAllowed("console.lan:3000")).toBe(false);
  });

  it("names its configured origins (for better-auth's own origin check)", () => {
    expect(loopback.origins).toEqual(["http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000"]);
    expect(originPolicy({ publicUrl: "https://nimbus.example.org/", bind: "0.0.0.0", port: 3000 }).origins).toContain("https://nimbus.example.org");
  });

  it("serves the name NIMBUS_BIND gives", () => {
    const named = originPolicy({ bind: "console.lan", port: 3000 });
    expect(named.hostAllowed("console.lan:3000")).toBe(true);
    expect(sameOrigin(post({ host: "console.lan:3000", origin: "http://console.lan:3000" }), named)).toBe(true);
  });
});
