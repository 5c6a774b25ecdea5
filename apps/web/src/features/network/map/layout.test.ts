import { buildTopology, mapGraph } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { FIXTURE_HOSTS, TENANT_VNI } from "@/fixtures/hosts";
import { headerWidth, layoutMap } from "./layout";

const tenants = Object.entries(TENANT_VNI).map(([slug, vni]) => ({ slug, name: slug, vni }));

describe("map layout", () => {
  it("places every node, each child inside its parent's box", async () => {
    const graph = mapGraph(buildTopology(FIXTURE_HOSTS, tenants), { expanded: new Set(), expandUpTo: 1 });
    const boxes = await layoutMap(graph);
    for (const n of graph.nodes) {
      const b = boxes.get(n.id);
      expect(b, n.id).toBeDefined();
      if (!n.parentId) continue;
      const parent = boxes.get(n.parentId)!;
      // Positions are relative to the parent, as React Flow expects.
      expect(b!.x + b!.width, n.id).toBeLessThanOrEqual(parent.width);
      expect(b!.y + b!.height, n.id).toBeLessThanOrEqual(parent.height);
    }
  });

  it("does not stack hosts on top of each other", async () => {
    const graph = mapGraph(buildTopology(FIXTURE_HOSTS, tenants));
    const boxes = await layoutMap(graph);
    const hosts = graph.nodes.filter((n) => n.kind === "host").map((n) => boxes.get(n.id)!);
    for (const [i, a] of hosts.entries())
      for (const b of hosts.slice(i + 1)) {
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap).toBe(false);
      }
  });

  it("keeps each host and bridge at least as wide as its header, so the header stays on one line", async () => {
    const graph = mapGraph(buildTopology(FIXTURE_HOSTS, tenants), { expanded: new Set(), expandUpTo: 1 });
    const boxes = await layoutMap(graph);
    const containers = graph.nodes.filter((n) => n.kind === "bridge" || n.kind === "host");
    expect(containers.some((n) => n.kind === "bridge" && n.vnis.length > 1)).toBe(true);
    for (const n of containers) expect(boxes.get(n.id)!.width, n.id).toBeGreaterThanOrEqual(headerWidth(n));
  });
});
