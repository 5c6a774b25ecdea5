import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, viewers, type Backend } from "./backend.js";

/** A double submit of Scale, probed at the API: however the requests arrive, one operation. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const queueOperations = async () => (await admin().operations.list({ target: { type: "service", name: "queue" }, limit: 50 })).map((o) => o.id);
const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === "rejected" && r.reason instanceof TRPCError ? r.reason.code : r.status);

async function converged(replicas: number) {
  for (;;) {
    const queue = (await admin().swarm.overview()).services.find((s) => s.name === "queue")!;
    if (queue.replicasDesired === replicas && queue.replicasRunning === replicas && !(await admin().operations.list({ target: { type: "service", name: "queue" }, limit: 5 })).some((o) => o.state === "running" || o.state === "pending")) return;
    await new Promise((r) => setImmediate(r));
  }
}

describe("swarm.scale sent twice", () => {
  it("at once: one operation starts, the other is refused", async () => {
    const results = await Promise.allSettled([admin().swarm.scale({ service: "queue", replicas: 2 }), admin().swarm.scale({ service: "queue", replicas: 2 })]);
    expect(results.map(codeOf).sort()).toEqual(["CONFLICT", "fulfilled"]);
    expect(await queueOperations()).toHaveLength(1);
  });

  it("after the first converged: refused as already done, no second operation", { timeout: 60_000 }, async () => {
    await converged(2);
    await expect(admin().swarm.scale({ service: "queue", replicas: 2 })).rejects.toMatchObject({ code: "CONFLICT", message: "queue already runs 2 replicas" });
    expect(await queueOperations()).toHaveLength(1);
  });
});
