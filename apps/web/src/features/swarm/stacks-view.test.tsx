import { describe, expect, it } from "vitest";
import type { StackDiff, StackView } from "@nimbus/domain";
import { renderHtml, renderText } from "@/fixtures/render";
import { StackDiffView, StackList, ValidationList } from "./stacks-view";
import { composeChunks } from "./stacks-deploy-dialog";

/** The Stacks view's renderers, drawn from plain data. */
const shop: StackView = {
  name: "acme-shop",
  tenant: "acme",
  replicasDesired: 3,
  replicasRunning: 1,
  ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress", nodes: null, nodeCount: null }],
  services: [
    { name: "acme-shop_web", short: "web", image: "nginx:1.25", mode: "replicated", replicasDesired: 2, replicasRunning: 0, ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress", nodes: null, nodeCount: null }], error: "No such image: nginx:1.25" },
    { name: "acme-shop_cache", short: "cache", image: "redis:7", mode: "replicated", replicasDesired: 1, replicasRunning: 1, ports: [], error: null },
  ],
};

describe("stack list", () => {
  it("shows each stack's services with replicas, ports and the task error that holds one back", () => {
    const text = renderText(<StackList stacks={[shop]} showTenant />);
    expect(text).toContain("acme-shop");
    expect(text).toContain("1/3");
    expect(text).toContain("8080→80/tcp");
    expect(text).toContain("mesh · every node");
    expect(text).toContain("No such image: nginx:1.25");
    expect(text).toContain("acme");
  });
  it("says which nodes answer a host-mode port; a tenant's view says how many; none running is a warning", () => {
    const host = (nodes: string[] | null, nodeCount: number) => ({ ...shop, services: [{ ...shop.services[0]!, ports: [{ published: 8081, target: 80, protocol: "tcp", mode: "host" as const, nodes, nodeCount }] }] });
    expect(renderText(<StackList stacks={[host(["worker1", "worker2"], 2)]} showTenant />)).toContain("8081→80/tcphost · worker1, worker2");
    expect(renderText(<StackList stacks={[host([], 2)]} showTenant={false} />)).toContain("host · 2 nodes");
    expect(renderHtml(<StackList stacks={[host([], 0)]} showTenant={false} />)).toMatch(/text-warn[^>]*>host · no task running/);
  });
  it("says so when there is no stack, and when the filter hides them all", () => {
    expect(renderText(<StackList stacks={[]} showTenant={false} />)).toContain("No stacks");
    expect(renderText(<StackList stacks={[]} showTenant={false} filtered />)).toContain("No stack matches the filter");
  });
  it("offers Remove only to who may", () => {
    expect(renderHtml(<StackList stacks={[shop]} showTenant />)).not.toContain("stack-remove-acme-shop");
    expect(renderHtml(<StackList stacks={[shop]} showTenant onRemove={() => undefined} />)).toContain("stack-remove-acme-shop");
  });
});

describe("deploy dialog parts", () => {
  it("lists errors with their place", () => {
    const text = renderText(<ValidationList validation={{ errors: [{ path: "services.web.ports[0]", message: "port 8080/tcp is already published by web" }], warnings: [] }} />);
    expect(text).toContain("services.web.ports[0]: port 8080/tcp is already published by web");
  });
  it("draws the diff: added, changed field by field, removed, unchanged", () => {
    const diff: StackDiff = {
      exists: true,
      added: [{ name: "acme-shop_api", image: "api:2", replicas: "2", ports: ["9000:80/tcp"] }],
      changed: [{ name: "acme-shop_web", changes: [{ field: "replicas", from: "2", to: "3" }] }],
      removed: [{ name: "acme-shop_old", image: "busybox:latest" }],
      unchanged: ["acme-shop_cache"],
    };
    const text = renderText(<StackDiffView diff={diff} />);
    expect(text).toContain("The stack exists; this deploy changes it");
    expect(text).toMatch(/added\s*acme-shop_api\s*api:2, 2 replicas, ports 9000:80\/tcp/);
    expect(text).toMatch(/changed\s*acme-shop_web\s*replicas: 2 → 3/);
    expect(text).toMatch(/removed\s*acme-shop_old/);
    expect(text).toMatch(/unchanged\s*acme-shop_cache/);
    expect(renderText(<StackDiffView diff={{ exists: true, added: [], changed: [], removed: [], unchanged: ["x"] }} />)).toContain("nothing changes");
  });
  it("sends the file in chunks the server's input limits accept", () => {
    const big = "x".repeat(20_000);
    const chunks = composeChunks(big);
    expect(chunks.map((c) => c.length)).toEqual([8192, 8192, 3616]);
    expect(chunks.join("")).toBe(big);
  });
});
