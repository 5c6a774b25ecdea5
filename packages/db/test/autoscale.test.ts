import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScalingPolicies, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

describe(`ScalingPolicies (${backend})`, () => {
  it("stores one policy per service, replaced whole, with who set it; removes it", async () => {
    const policies = new ScalingPolicies(database.db);
    await policies.set({ service: "web", enabled: true, minReplicas: 2, maxReplicas: 6, cpuTargetPct: 60, windowSeconds: 120, cooldownSeconds: 300, addWorkers: "suggest", removeIdleWorkers: false, idleMinutes: 30 }, "Ada");
    await policies.set({ service: "web", enabled: true, minReplicas: 1, maxReplicas: 4, cpuTargetPct: 50, windowSeconds: 60, cooldownSeconds: 60, addWorkers: "perform", removeIdleWorkers: true, idleMinutes: 10 }, "Otto");
    expect(await policies.list()).toEqual([expect.objectContaining({ service: "web", minReplicas: 1, maxReplicas: 4, addWorkers: "perform", updatedBy: "Otto" })]);
    expect(await policies.remove("web")).toBe(true);
    expect(await policies.remove("web")).toBe(false);
    expect(await policies.list()).toEqual([]);
  });

  it("refuses a policy whose minimum is above its maximum, and skips a stored row that no longer parses", async () => {
    const policies = new ScalingPolicies(database.db);
    await expect(policies.set({ service: "api", enabled: true, minReplicas: 5, maxReplicas: 2, cpuTargetPct: 60, windowSeconds: 120, cooldownSeconds: 300, addWorkers: "off", removeIdleWorkers: false, idleMinutes: 30 }, "Ada")).rejects.toThrow(/minimum is above the maximum/);
    await database.db.execute(sql`insert into swarm_scaling_policies (service, policy, updated_by) values ('old', '{"service":"old"}', 'x')`);
    expect((await policies.list()).map((p) => p.service)).not.toContain("old");
  });
});
