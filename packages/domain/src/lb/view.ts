import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import { LoadBalancerSpec, LbServerStat, type LbApplyParams, type LbRuntime } from "./spec.js";
import { requestShares } from "./stat.js";

/** A load balancer as the page shows it: the saved spec, how its edge host runs it, and each backend. */
export const LbBackendView = LbServerStat.extend({
  /** Share of the requests the balancer handed out (0 … 1). */
  share: z.number(),
});
export type LbBackendView = z.infer<typeof LbBackendView>;

export const LoadBalancerView = z.object({
  spec: LoadBalancerSpec,
  createdBy: z.string(),
  updatedAt: z.string(),
  /**
   * applied: HAProxy runs the configuration Nimbus last applied; changed: it runs another one
   * (edited by hand, or an apply failed half way); stale: the swarm changed since (a node
   * joined, left or was drained): apply again; not-running / not-applied / edge-unreachable.
   */
  status: z.enum(["applied", "changed", "stale", "not-running", "not-applied", "edge-unreachable"]),
  message: z.string(),
  pid: z.number().int().nullable(),
  frontend: z.object({ status: z.string(), sessionsCurrent: z.number(), sessionsTotal: z.number() }).nullable(),
  backends: z.array(LbBackendView),
  /** The servers the inventory says it should have now (null when they cannot be resolved, with why in `message`). */
  expected: z.array(z.object({ name: z.string(), address: z.string(), port: z.number(), disabled: z.boolean() })).nullable(),
  up: z.number().int(),
  total: z.number().int(),
});
export type LoadBalancerView = z.infer<typeof LoadBalancerView>;

export interface StoredLbLike {
  spec: LoadBalancerSpec;
  appliedHash: string | null;
  createdBy: string;
  updatedAt: string;
}

const sameServers = (a: readonly LbApplyParams["servers"][number][], b: readonly LbApplyParams["servers"][number][]) =>
  a.length === b.length && a.every((s, i) => s.name === b[i]!.name && s.address === b[i]!.address && s.port === b[i]!.port && s.disabled === b[i]!.disabled);

/**
 * Joins a stored load balancer with what its edge host reports (`lb` section) and what the
 * inventory says its servers should be now. `expected` comes from resolveLbServers (the caller
 * catches its refusal and passes the reason).
 */
export function loadBalancerView(
  stored: StoredLbLike,
  hosts: readonly HostRecord[],
  expected: { servers: LbApplyParams["servers"] } | { error: string },
  applied: LbApplyParams["servers"] | null,
): LoadBalancerView {
  const edge = hosts.find((h) => h.name === stored.spec.edgeHost);
  const runtime: LbRuntime | undefined = edge?.inventory.lb?.balancers.find((b) => b.name === stored.spec.name);
  const shares = requestShares(runtime?.servers ?? []);
  const backends = (runtime?.servers ?? []).map((s) => ({ ...s, share: shares.get(s.name) ?? 0 }));
  const exp = "servers" in expected ? expected.servers : null;
  const base = {
    spec: stored.spec,
    createdBy: stored.createdBy,
    updatedAt: stored.updatedAt,
    pid: runtime?.pid ?? null,
    frontend: runtime?.frontend ?? null,
    backends,
    expected: exp,
    up: backends.filter((b) => b.state === "up").length,
    total: backends.length,
  };
  if (!edge || edge.connection.state !== "online") return { ...base, status: "edge-unreachable", message: `edge host ${stored.spec.edgeHost} is ${edge ? edge.connection.state : "not in the fleet"}` };
  if (!runtime || runtime.configHash === null) return { ...base, status: "not-applied", message: stored.appliedHash ? "HAProxy has no configuration for it on the edge host: apply again" : "not applied yet" };
  if (!runtime.running) return { ...base, status: "not-running", message: runtime.error ?? "HAProxy is not running" };
  if (stored.appliedHash && runtime.configHash !== stored.appliedHash) return { ...base, status: "changed", message: "HAProxy runs a configuration Nimbus did not apply: apply again" };
  if (!exp) return { ...base, status: "applied", message: "error" in expected ? expected.error : "" };
  if (applied && !sameServers(applied, exp)) return { ...base, status: "stale", message: "the swarm changed since the last apply" };
  return { ...base, status: "applied", message: `${base.up} of ${base.total} backends up` };
}
