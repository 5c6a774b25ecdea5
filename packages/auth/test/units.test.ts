import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generatePassword, guardAuthRoutes, hashPassword, resolveAuthSecret, SECRET_FILE, SignInLimiter, TrustedProxies, verifyPassword } from "../src/index.js";

describe("SignInLimiter", () => {
  const limits = { perAccountAndAddress: { failures: 3, windowMs: 60_000 }, perAddress: { failures: 5, windowMs: 120_000 } };

  it("allows until an address's failures for an account reach the limit, then says how long to wait", () => {
    let now = 1_000_000;
    const l = new SignInLimiter(limits, () => now);
    l.recordFailure("u1", "ip1");
    now += 10_000;
    l.recordFailure("u1", "ip1");
    expect(l.retryAfter("u1", "ip1")).toBeNull();
    now += 10_000;
    l.recordFailure("u1", "ip1");
    // The oldest failure leaves the window 60 s after it happened, 40 s from now.
    expect(l.retryAfter("u1", "ip1")).toBe(40);
    now += 40_000;
    expect(l.retryAfter("u1", "ip1")).toBeNull();
  });

  it("holds back the address that failed, never the account from another address", () => {
    const l = new SignInLimiter(limits, () => 0);
    for (let i = 0; i < 3; i++) l.recordFailure("admin", "attacker");
    expect(l.retryAfter("admin", "attacker")).toBe(60);
    expect(l.retryAfter("admin", "the-admins-desk")).toBeNull();
  });

  it("clears an account's failures from an address on success there, not the address's own count", () => {
    const l = new SignInLimiter({ ...limits, perAddress: { failures: 5, windowMs: 60_000 } }, () => 0);
    for (let i = 0; i < 2; i++) l.recordFailure("u1", "ip1");
    l.recordFailure("u2", "ip1");
    l.recordSuccess("u1", "ip1");
    l.recordFailure("u1", "ip1");
    expect(l.retryAfter("u1", "ip1")).toBeNull();
    l.recordFailure("u3", "ip1");
    expect(l.retryAfter("u4", "ip1")).toBe(60);
  });

  it("limits an address across accounts", () => {
    const l = new SignInLimiter(limits, () => 0);
    for (let i = 0; i < 5; i++) l.recordFailure(`u${i}`, "ip1");
    expect(l.retryAfter("fresh", "ip1")).toBe(120);
    expect(l.retryAfter("fresh", "ip2")).toBeNull();
  });

  it("keeps an account and an address apart whatever characters they hold", () => {
    const l = new SignInLimiter(limits, () => 0);
    for (let i = 0; i < 3; i++) l.recordFailure("a|b", "c");
    expect(l.retryAfter("a", "b|c")).toBeNull();
  });
});

describe("TrustedProxies", () => {
  const proxies = TrustedProxies.parse(["10.0.0.1", "192.168.0.0/16", "fd00::/8"]);

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(TrustedProxies.none.clientAddress("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
    expect(proxies.clientAddress("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
  });

  it("takes the client a trusted proxy names, walking past further trusted proxies", () => {
    expect(proxies.clientAddress("10.0.0.1", "198.51.100.7")).toBe("198.51.100.7");
    expect(proxies.clientAddress("::ffff:10.0.0.1", "198.51.100.7, 192.168.4.4")).toBe("198.51.100.7");
    expect(proxies.clientAddress("fd00::5", ["198.51.100.7"])).toBe("198.51.100.7");
  });

  it("never reads what the client wrote left of the first untrusted hop", () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real peer.
    expect(proxies.clientAddress("10.0.0.1", "1.1.1.1, 198.51.100.7")).toBe("198.51.100.7");
  });

  it("stops at the last trusted proxy when a hop is not an address or none is left", () => {
    expect(proxies.clientAddress("10.0.0.1", "not-an-ip")).toBe("10.0.0.1");
    expect(proxies.clientAddress("10.0.0.1", undefined)).toBe("10.0.0.1");
    expect(proxies.clientAddress("10.0.0.1", "192.168.1.1")).toBe("192.168.1.1");
  });

  it("refuses entries that are neither an address nor a CIDR range", () => {
    for (const bad of ["proxy.example", "10.0.0.0/33", "10.0.0.1/8/1", "10.0.0.0/x", ""]) {
      expect(() => TrustedProxies.parse([bad]), bad).toThrow(/not an IP address or CIDR range/);
    }
  });
});

describe("passwords", () => {
  it("hashes with argon2id and verifies", async () => {
    const hash = await hashPassword("s3cret-enough");
    expect(hash.startsWith("$argon2id$")).toBe(true);
    expect(await verifyPassword({ hash, password: "s3cret-enough" })).toBe(true);
    expect(await verifyPassword({ hash, password: "s3cret-enougH" })).toBe(false);
  });

  it("treats an unreadable hash as a wrong password", async () => {
    expect(await verifyPassword({ hash: "not-a-phc-string", password: "x" })).toBe(false);
  });

  it("generates distinct passwords without look-alike characters", () => {
    const a = generatePassword();
    expect(a).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe("resolveAuthSecret", () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "nimbus-secret-"));

  it("generates a secret on first start and reads the same one later", () => {
    const d = dir();
    const first = resolveAuthSecret({ stateDir: d });
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(path.join(d, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(resolveAuthSecret({ stateDir: d })).toBe(first);
    fs.rmSync(d, { recursive: true });
  });

  it("prefers NIMBUS_AUTH_SECRET and writes nothing", () => {
    const d = dir();
    const env = "e".repeat(40);
    expect(resolveAuthSecret({ fromEnv: env, stateDir: d })).toBe(env);
    expect(fs.existsSync(path.join(d, SECRET_FILE))).toBe(false);
    fs.rmSync(d, { recursive: true });
  });

  it("refuses a short NIMBUS_AUTH_SECRET", () => {
    expect(() => resolveAuthSecret({ fromEnv: "short", stateDir: os.tmpdir() })).toThrow(/at least 32/);
  });

  it("replicas without NIMBUS_AUTH_SECRET share one derived from their cluster secret, not a file each (a session holds across them)", () => {
    const [a, b] = [dir(), dir()];
    const cluster = "c".repeat(40);
    const onA = resolveAuthSecret({ stateDir: a, clusterSecret: cluster });
    expect(resolveAuthSecret({ stateDir: b, clusterSecret: cluster })).toBe(onA);
    expect(onA.length).toBeGreaterThanOrEqual(32);
    // A key of its own: not the cluster secret, and another cluster's differs.
    expect(onA).not.toContain(cluster);
    expect(resolveAuthSecret({ stateDir: a, clusterSecret: "d".repeat(40) })).not.toBe(onA);
    expect(fs.existsSync(path.join(a, SECRET_FILE)) || fs.existsSync(path.join(b, SECRET_FILE))).toBe(false);
    // NIMBUS_AUTH_SECRET still wins.
    expect(resolveAuthSecret({ fromEnv: "e".repeat(40), stateDir: a, clusterSecret: cluster })).toBe("e".repeat(40));
    fs.rmSync(a, { recursive: true });
    fs.rmSync(b, { recursive: true });
  });
});

describe("guardAuthRoutes", () => {
  const ok = guardAuthRoutes(async () => new Response("{}", { status: 200 }));

  it("passes exposed routes and refuses others with 404", async () => {
    expect((await ok(new Request("http://x/api/auth/sign-in/email", { method: "POST" }))).status).toBe(200);
    expect((await ok(new Request("http://x/api/auth/get-session"))).status).toBe(200);
    expect((await ok(new Request("http://x/api/auth/sign-up/email", { method: "POST" }))).status).toBe(404);
    expect((await ok(new Request("http://x/api/auth/sign-in/email"))).status).toBe(404);
  });

  it("adds Retry-After to better-auth's own 429", async () => {
    const limited = guardAuthRoutes(async () => new Response("{}", { status: 429, headers: { "X-Retry-After": "7" } }));
    const res = await limited(new Request("http://x/api/auth/sign-in/email", { method: "POST" }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
  });
});
