import type { Operation } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { ADOPT_SQL, OperationAdoption, SERVER_SIDE_KINDS, SWEEP_SQL } from "../src/adoption.js";
import type { LeaseEvent } from "../src/leases.js";

/**
 * Adoption without a database: leases taken together are adopted with one query that re-stamps
 * the rows; only hosts still owned are given to the manager; a released lease disowns.
 */
const op = (id: string, host: string): Operation => ({
  id, kind: "migrate", state: "running", target: { type: "instance", name: `vm-${id}` }, host, tenant: null,
  requestedBy: "alice", summary: "Migrate", params: {}, progress: null, steps: [], error: null,
  createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z", finishedAt: null,
});

function setup(rows: Operation[]) {
  const owned = new Map<string, number>();
  let listener: ((e: LeaseEvent) => void) | null = null;
  const queries: { text: string; values: unknown[] }[] = [];
  const adopted: Operation[][] = [];
  const disowned: string[] = [];
  const handedOver: Operation[][] = [];
  const adoption = new OperationAdoption({
    replicaId: "r1",
    leases: { subscribe: (l) => ((listener = l), () => (listener = null)), owns: (h) => owned.has(h), owned: () => owned },
    db: {
      query: async (text: string, values: unknown[] = []) => {
        queries.push({ text, values });
        const hosts = values[1] as string[];
        return { rows: rows.filter((r) => hosts.includes(r.host)).map((r) => ({ id: r.id })) } as never;
      },
    },
    store: { get: async (id) => rows.find((r) => r.id === id) ?? null },
    manager: {
      adopt: async (ops) => (adopted.push([...ops]), [...ops]),
      disown: (host) => (disowned.push(host), rows.filter((r) => r.host === host)),
    },
    onHandedOver: (ops) => handedOver.push([...ops]),
    sweepMs: 0,
  });
  const lease = (host: string) => {
    owned.set(host, 1);
    listener?.({ type: "acquired", host, epoch: 1 });
  };
  return { adoption, owned, queries, adopted, disowned, handedOver, lease, release: (host: string) => (owned.delete(host), listener?.({ type: "released", host, reason: "lost" })) };
}

describe("OperationAdoption", () => {
  it("adopts the hosts of one round with one query that re-stamps their unfinished rows", async () => {
    const t = setup([op("a", "kvm1"), op("b", "kvm2"), op("c", "kvm3")]);
    t.adoption.start();
    t.lease("kvm1");
    t.lease("kvm2");
    await t.adoption.settled();
    expect(t.queries).toHaveLength(1);
    expect(t.queries[0]!.text).toBe(ADOPT_SQL);
    expect(t.queries[0]!.values).toEqual(["r1", ["kvm1", "kvm2"], [...SERVER_SIDE_KINDS], 6_000]);
    expect(t.adopted.map((ops) => ops.map((o) => o.id))).toEqual([["a", "b"]]);
  });

  it("adopts hosts owned before it started, and gives the manager only operations of hosts still owned", async () => {
    const t = setup([op("a", "kvm1"), op("b", "kvm2")]);
    t.owned.set("kvm1", 1);
    t.adoption.start();
    t.lease("kvm2");
    t.owned.delete("kvm2"); // gone again before the rows were read
    await t.adoption.settled();
    expect(t.adopted.flat().map((o) => o.id)).toEqual(["a"]);
  });

  it("a released lease disowns the host's operations and hands them over", async () => {
    const t = setup([op("a", "kvm1")]);
    t.adoption.start();
    t.release("kvm1");
    expect(t.disowned).toEqual(["kvm1"]);
    expect(t.handedOver.flat().map((o) => o.id)).toEqual(["a"]);
  });

  it("sweeps the owned hosts for server-side operations of dead replicas (no lease moves for them) and adopts what the query returns", async () => {
    const t = setup([op("a", "kvm1"), { ...op("b", "kvm2"), kind: "lb-apply" }]);
    t.adoption.start();
    await t.adoption.sweep();
    expect(t.queries).toEqual([]); // nothing owned: nothing asked
    t.owned.set("kvm2", 1);
    await t.adoption.sweep();
    expect(t.queries.map((q) => [q.text, q.values])).toEqual([[SWEEP_SQL, ["r1", ["kvm2"], [...SERVER_SIDE_KINDS], 6_000]]]);
    expect(t.adopted.flat().map((o) => o.id)).toEqual(["b"]);
  });
});
