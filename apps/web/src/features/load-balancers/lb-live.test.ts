import { LoadBalancerSpec, type LoadBalancerView } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { applyLoadBalancer } from "./lb-live";

const view = (name: string, selected = 0): LoadBalancerView => ({
  spec: LoadBalancerSpec.parse({ name, edgeHost: "manager", bind: { address: "0.0.0.0", port: 80 }, target: { kind: "service", service: "web" } }),
  createdBy: "Ada Admin",
  updatedAt: "2026-01-01T00:00:00.000Z",
  status: "applied",
  message: "",
  pid: 1,
  frontend: { status: "OPEN", sessionsCurrent: 0, sessionsTotal: selected },
  backends: [],
  expected: [],
  up: 0,
  total: 0,
});

describe("applyLoadBalancer (a pushed load-balancer event on the cached list)", () => {
  it("replaces the one named in place, keeping the others as they are", () => {
    const list = [view("api"), view("shop")];
    const next = applyLoadBalancer(list, "shop", view("shop", 300))!;
    expect(next.map((l) => [l.spec.name, l.frontend!.sessionsTotal])).toEqual([["api", 0], ["shop", 300]]);
    expect(next[0]).toBe(list[0]);
  });
  it("adds a new one in name order and removes a deleted one", () => {
    const list = [view("api"), view("shop")];
    expect(applyLoadBalancer(list, "edge", view("edge"))!.map((l) => l.spec.name)).toEqual(["api", "edge", "shop"]);
    expect(applyLoadBalancer(list, "api", null)!.map((l) => l.spec.name)).toEqual(["shop"]);
    expect(applyLoadBalancer(list, "gone", null)).toBe(list);
  });
  it("leaves a list not loaded yet unloaded", () => {
    expect(applyLoadBalancer(undefined, "shop", view("shop"))).toBeUndefined();
  });
});
