import { describe, expect, it } from "vitest";
import { defaultMaxMoves, fairShare, fenceDeadline, planRound, DEFAULT_LEASE_TIMING } from "../src/leases.js";

const held = (o: Record<string, number>) => new Map(Object.entries(o));

describe("fair share", () => {
  it("is ceil(hosts / alive replicas), and nothing for no hosts", () => {
    expect(fairShare(10, 3)).toBe(4);
    expect(fairShare(9, 3)).toBe(3);
    expect(fairShare(1, 3)).toBe(1);
    expect(fairShare(0, 3)).toBe(0);
    expect(fairShare(5, 0)).toBe(5);
  });

  it("moves a twentieth of the fleet a round, at least 16", () => {
    expect(defaultMaxMoves(10)).toBe(16);
    expect(defaultMaxMoves(2000)).toBe(100);
  });
});

describe("planRound", () => {
  it("takes every free lease up to the share at once (a dead replica's hosts are re-owned in one round)", () => {
    expect(planRound({ hosts: 2000, alive: ["a", "b"], me: "a", held: held({ a: 667 }), free: 666, maxMoves: 100 })).toEqual({ take: 333, release: 0 });
  });

  it("never takes more than is free", () => {
    expect(planRound({ hosts: 10, alive: ["a", "b"], me: "a", held: held({ a: 2, b: 7 }), free: 1, maxMoves: 16 })).toEqual({ take: 1, release: 0 });
  });

  it("counts itself alive before its first heartbeat is visible", () => {
    expect(planRound({ hosts: 10, alive: ["b"], me: "a", held: held({ b: 10 }), free: 0, maxMoves: 16 })).toEqual({ take: 0, release: 0 });
    expect(planRound({ hosts: 10, alive: ["b"], me: "b", held: held({ b: 10 }), free: 0, maxMoves: 16 })).toEqual({ take: 0, release: 0 });
  });

  it("a balanced cluster moves nothing, however uneven ceil makes it", () => {
    // 3 hosts, 2 replicas: share 2; 2 + 1 is stable (no flapping between 2/1 and 1/2).
    expect(planRound({ hosts: 3, alive: ["a", "b"], me: "a", held: held({ a: 2, b: 1 }), free: 0, maxMoves: 16 })).toEqual({ take: 0, release: 0 });
    expect(planRound({ hosts: 3, alive: ["a", "b"], me: "b", held: held({ a: 2, b: 1 }), free: 0, maxMoves: 16 })).toEqual({ take: 0, release: 0 });
  });

  it("a replica joining gets hosts released to it at most maxMoves a round", () => {
    const plan = planRound({ hosts: 2000, alive: ["a", "b"], me: "a", held: held({ a: 2000 }), free: 0, maxMoves: 100 });
    expect(plan).toEqual({ take: 0, release: 100 });
  });

  it("releases nothing when no alive replica has room (it would go to nobody)", () => {
    // b is alive and already at its share; c died holding leases that have not expired yet.
    expect(planRound({ hosts: 9, alive: ["a", "b"], me: "a", held: held({ a: 6, b: 5 }), free: 0, maxMoves: 16 })).toEqual({ take: 0, release: 0 });
  });

  it("releases only what the free leases will not already fill", () => {
    // share 5: b has room for 4, and 3 free leases will go there first: a lets go of 1.
    expect(planRound({ hosts: 10, alive: ["a", "b"], me: "a", held: held({ a: 6, b: 1 }), free: 3, maxMoves: 16 })).toEqual({ take: 0, release: 1 });
  });

  it("converges: replicas following the plan end balanced and then stay put", () => {
    const hosts = 50;
    const counts: Record<string, number> = { a: 50, b: 0, c: 0 };
    let free = 0;
    const moves: number[] = [];
    for (let round = 0; round < 20; round++) {
      let moved = 0;
      for (const me of ["a", "b", "c"]) {
        const plan = planRound({ hosts, alive: ["a", "b", "c"], me, held: held(counts), free, maxMoves: 5 });
        counts[me]! += plan.take - plan.release;
        free += plan.release - plan.take;
        moved += plan.take + plan.release;
      }
      moves.push(moved);
    }
    expect(Object.values(counts).reduce((a, b) => a + b) + free).toBe(hosts);
    expect(Math.max(...Object.values(counts))).toBeLessThanOrEqual(fairShare(hosts, 3));
    expect(free).toBe(0);
    // Settled within the first rounds and then not a single move.
    expect(moves.slice(12)).toEqual(new Array(8).fill(0));
  });
});

describe("self-fence timing", () => {
  it("lets go fenceMs after SENDING the last successful renew, leaseMs - fenceMs before anyone may take over", () => {
    const { fenceMs, leaseMs } = DEFAULT_LEASE_TIMING;
    const sentAt = 1_000;
    // The database executed the renew some time after it was sent: expiry >= sentAt + leaseMs.
    const executedAt = sentAt + 700;
    const expiry = executedAt + leaseMs;
    expect(fenceDeadline(sentAt, fenceMs)).toBe(5_000);
    expect(expiry - fenceDeadline(sentAt, fenceMs)!).toBeGreaterThanOrEqual(leaseMs - fenceMs);
    expect(fenceDeadline(null, fenceMs)).toBeNull();
  });
});
