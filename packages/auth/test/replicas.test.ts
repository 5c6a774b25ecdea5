import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { backend, openTestDatabase } from "@nimbus/db/testing";
import type { Database } from "@nimbus/db";
import { createAuth, type AuthOptions, type NimbusAuth } from "../src/index.js";
import { cookieHeaders, post, TEST_SECRET } from "./harness.js";

/**
 * Two servers on one database, as replicas behind a load balancer are: failed sign-ins made
 * through either count against one limit (limitsIn "database"), better-auth's flood guard counts
 * both, and a session made through one is known to the other. With the in-memory limiter each
 * replica would count alone (the first test proves the difference).
 */
const PASSWORD = "correct-horse-battery";
let database: Database | undefined;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await database?.close();
  database = undefined;
});

interface Replica {
  baseURL: string;
  auth: NimbusAuth;
}

async function replica(db: Database, opts: Partial<AuthOptions>): Promise<Replica> {
  let handler: NimbusAuth["handler"] | undefined;
  const server = http.createServer((req, res) => {
    if (handler && req.url?.startsWith("/api/auth/")) return void handler(req, res);
    res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = createAuth({ db: db.db, baseURL, secret: TEST_SECRET, ...opts });
  handler = auth.handler;
  return { baseURL, auth };
}

const limits = { perAccountAndAddress: { failures: 4, windowMs: 60_000 }, perAddress: { failures: 50, windowMs: 60_000 } };

describe(`sign-in across replicas (${backend})`, () => {
  it("counts failed sign-ins made through two replicas against one limit", async () => {
    database = await openTestDatabase();
    const a = await replica(database, { limitsIn: "database", signInLimits: limits });
    const b = await replica(database, { limitsIn: "database", signInLimits: limits });
    await a.auth.createUser({ email: "ops@nimbus.local", name: "Ops", password: PASSWORD, role: "operator", tenant: null });
    // Alternating: each replica sees only two of the four.
    for (let i = 0; i < 4; i++) expect((await post(i % 2 ? b : a, "/sign-in/email", { email: "ops@nimbus.local", password: `guess-${i}` })).status).toBe(401);
    for (const r of [a, b]) {
      const blocked = await post(r, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(50);
    }
  });

  it("in memory, as one server keeps them, the same attempts are not enough on either (the difference the table makes)", async () => {
    database = await openTestDatabase();
    const a = await replica(database, { signInLimits: limits });
    const b = await replica(database, { signInLimits: limits });
    await a.auth.createUser({ email: "ops@nimbus.local", name: "Ops", password: PASSWORD, role: "operator", tenant: null });
    for (let i = 0; i < 4; i++) expect((await post(i % 2 ? b : a, "/sign-in/email", { email: "ops@nimbus.local", password: `guess-${i}` })).status).toBe(401);
    expect((await post(a, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD })).status).toBe(200);
  });

  it("a success through one replica clears that account's count from that address on the other, and time frees a blocked one", async () => {
    database = await openTestDatabase();
    let offset = 0;
    const now = () => Date.now() + offset;
    const a = await replica(database, { limitsIn: "database", signInLimits: limits, now });
    const b = await replica(database, { limitsIn: "database", signInLimits: limits, now });
    await a.auth.createUser({ email: "ops@nimbus.local", name: "Ops", password: PASSWORD, role: "operator", tenant: null });
    for (let i = 0; i < 3; i++) expect((await post(a, "/sign-in/email", { email: "ops@nimbus.local", password: `guess-${i}` })).status).toBe(401);
    expect((await post(b, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(b, "/sign-in/email", { email: "ops@nimbus.local", password: `again-${i}` })).status).toBe(401);
    expect((await post(a, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 4; i++) await post(i % 2 ? a : b, "/sign-in/email", { email: "ops@nimbus.local", password: `more-${i}` });
    expect((await post(a, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD })).status).toBe(429);
    offset += 61_000;
    expect((await post(b, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD })).status).toBe(200);
  });

  it("better-auth's per-address flood guard counts requests through both replicas (rate_limits table)", async () => {
    database = await openTestDatabase();
    const a = await replica(database, { limitsIn: "database", signInRequestsPerMinute: 6 });
    const b = await replica(database, { limitsIn: "database", signInRequestsPerMinute: 6 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(i % 2 ? b : a, "/sign-in/email", { email: `nobody${i}@nimbus.local`, password: "wrong-password" })).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
  });

  it("a session made through one replica is valid on the other, and a sign-out through the other ends it for both", async () => {
    database = await openTestDatabase();
    const a = await replica(database, { limitsIn: "database" });
    const b = await replica(database, { limitsIn: "database" });
    await a.auth.createUser({ email: "ops@nimbus.local", name: "Ops", password: PASSWORD, role: "operator", tenant: null });
    const signed = await post(a, "/sign-in/email", { email: "ops@nimbus.local", password: PASSWORD });
    expect(signed.cookie).not.toBeNull();
    expect(await b.auth.viewerFromHeaders(cookieHeaders(signed.cookie!))).toMatchObject({ role: "operator", name: "Ops" });
    expect((await post(b, "/sign-out", {}, { cookie: signed.cookie! })).status).toBe(200);
    expect(await a.auth.viewerFromHeaders(cookieHeaders(signed.cookie!))).toBeNull();
  });
});
