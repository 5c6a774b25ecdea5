import { OPERATION_SORTS, type Operation, type OperationListQuery } from "../../src/index.js";

const KINDS = ["migrate", "storage-move", "create", "delete", "scale", "stack-deploy"] as const;
const STATES = ["pending", "running", "succeeded", "failed", "cancelled", "succeeded"] as const;
const TENANTS = [null, "acme", "globex"] as const;

/**
 * `n` operations (a multiple of 3) with every kind, state and tenant, equal timestamps in runs of
 * three (ties must page stably), mixed-case text and LIKE wildcards in it. Shared by the domain's
 * brute-force test and the database store's test against the domain rule.
 */
export function operationsFixture(n: number): Operation[] {
  const pad = String(n).length;
  return Array.from({ length: n }, (_, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const at = new Date(Date.UTC(2030, 0, 1) + Math.floor(i / 3) * 60_000).toISOString();
    return {
      id: `op-${String((i * 389) % n).padStart(pad, "0")}`,
      kind,
      state: STATES[i % STATES.length]!,
      target: { type: kind === "scale" || kind === "stack-deploy" ? "service" : "instance", name: `${TENANTS[i % 3] ?? "Infra"}-vm${i % 17}` },
      host: `kvm${i % 9}`,
      tenant: TENANTS[i % 3]!,
      requestedBy: ["alice", "Bob", "carol_x"][i % 3]!,
      summary: kind === "migrate" ? `Migrate vm${i % 17} from kvm${i % 9} to kvm${(i + 4) % 9}` : `${kind} 100% vm${i % 17}`,
      createdAt: at,
      updatedAt: at,
      finishedAt: null,
      params: kind === "migrate" ? { source: `kvm${i % 9}`, destination: `kvm${(i + 4) % 9}` } : {},
      ...{ progress: null, steps: [], error: null },
    };
  });
}

/** Filters, searches (LIKE's wildcards are plain text), every sort both ways, a last page. */
export const operationQueries = (n: number): OperationListQuery[] => [
  {},
  { offset: n - 10 },
  { state: "active" },
  { state: "failed", kind: "migrate" },
  { kinds: ["migrate", "storage-move"], host: "kvm3" },
  { q: "BOB" },
  { q: "kvm1" },
  { q: "op-01" },
  { q: "100%" },
  { q: "carol_" },
  { q: "_" },
  { targetType: "service", requestedBy: "Bob", sort: "target", desc: false },
  { target: "acme-vm4" },
  ...OPERATION_SORTS.flatMap((sort) => [false, true].map((desc) => ({ sort, desc, offset: 37, limit: 200 }))),
];
