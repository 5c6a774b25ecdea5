import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { backend } from "@nimbus/db/testing";
import { TrustedProxies } from "../src/index.js";
import { post, startHarness, type Harness } from "./harness.js";

/**
 * What unauthenticated clients make the server store in replica mode (`rate_limits`: a counter per
 * address and path; `sign_in_failures`: two rows per wrong password) is removed once it counts for
 * nothing, whatever the number of addresses, and nothing that still counts goes with it.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const count = async (table: "rate_limits" | "sign_in_failures") =>
  Number(((await h!.database.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`)) as unknown as { rows: { n: number }[] }).rows[0]!.n);

describe(`pruning what sign-in attempts leave behind (${backend})`, () => {
  it("drops request counters and failed sign-ins of many addresses after their windows; a live address keeps its limit", async () => {
    h = await startHarness({
      limitsIn: "database",
      trustedProxies: TrustedProxies.parse(["127.0.0.1"]),
      signInLimits: { perAccountAndAddress: { failures: 3, windowMs: 120_000 }, perAddress: { failures: 3, windowMs: 120_000 } },
    });
    const from = (address: string) => ({ "x-forwarded-for": address });
    const addresses = Array.from({ length: 12 }, (_, i) => `198.51.100.${i + 1}`);
    for (const a of addresses) expect((await post(h, "/sign-in/email", { email: `nobody@${a}.test`, password: "wrong-password" }, from(a))).status).toBe(401);
    expect(await count("rate_limits")).toBe(12);
    expect(await count("sign_in_failures")).toBe(24);

    // Nothing is due yet: every counter is inside its minute, every failure inside its window.
    expect(await h.auth.pruneRows()).toMatchObject({ rateLimits: 0, signInFailures: 0 });
    expect(await count("rate_limits")).toBe(12);

    // One address goes on and reaches its limit (3 failures in the window).
    const live = "203.0.113.7";
    for (let i = 0; i < 3; i++) expect((await post(h, "/sign-in/email", { email: `guess${i}@x.test`, password: "wrong-password" }, from(live))).status).toBe(401);

    // A minute later better-auth's counters are over (the live address's too: its window is one
    // minute), the failures are not: the blocked address stays blocked.
    const pruned = await h.auth.pruneRows(Date.now() + 61_000);
    expect(pruned).toMatchObject({ rateLimits: 13, signInFailures: 0 });
    expect(await count("rate_limits")).toBe(0);
    expect((await post(h, "/sign-in/email", { email: "guess9@x.test", password: "wrong-password" }, from(live))).status).toBe(429);

    // Past the sign-in window (the limiter's clock), every failure goes, and the address may try again.
    h.advance(121_000);
    expect((await h.auth.pruneRows()).signInFailures).toBe(30);
    expect(await count("sign_in_failures")).toBe(0);
    expect((await post(h, "/sign-in/email", { email: "guess9@x.test", password: "wrong-password" }, from(live))).status).toBe(401);
  });

  it("cuts an oversized account name before it is looked up, counted or audited (a sign-in body may be 256 KiB)", async () => {
    h = await startHarness({ limitsIn: "database" });
    const longest = async () =>
      ((await h!.database.db.execute(sql`select coalesce(max(length(key)), 0)::int as n from sign_in_failures`)) as unknown as { rows: { n: number }[] }).rows[0]!.n;
    // An address better-auth accepts (a long domain) fails as a wrong password (401) and is counted.
    expect((await post(h, "/sign-in/email", { email: `${"a".repeat(60)}@${"b".repeat(100_000)}.test`, password: "wrong-password" })).status).toBe(401);
    expect((await post(h, "/sign-in/username", { username: "u".repeat(100_000), password: "wrong-password" })).status).toBeGreaterThanOrEqual(400);
    expect(await longest()).toBeLessThan(400);
    const { records } = await h.auth.audit.query({ action: "auth.sign-in" }, { limit: 2 });
    for (const r of records) expect(r.target!.length).toBeLessThanOrEqual(201);
  });
});
