import ELK, { type ElkNode } from "elkjs/lib/elk.bundled.js";
import type { MapGraph, MapNode } from "@nimbus/domain";

/** Size of each leaf kind on the map; containers (hosts, bridges) grow to fit their children. */
export const LEAF_SIZE: Record<"vm" | "vm-group" | "remote", { width: number; height: number }> = {
  vm: { width: 150, height: 30 },
  "vm-group": { width: 168, height: 44 },
  remote: { width: 160, height: 44 },
};

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const elk = new ELK();

// Header text is not measured by ELK, so a container is kept at least as wide as its header
// (name, type, VNI chips, finding badge) on one line; otherwise "br-ovs" wrapped into its children.
const CHAR_PX = 7.4;
const VNI_CHIP_PX = 34;
const BADGE_PX = 26;
export function headerWidth(n: MapNode): number {
  if (n.kind === "bridge") return Math.ceil(24 + n.bridge.length * CHAR_PX + 40 + n.vnis.length * VNI_CHIP_PX + BADGE_PX);
  if (n.kind === "host") return Math.ceil(40 + n.label.length * 8 + 100 + String(n.vmCount).length * 7 + BADGE_PX);
  return 0;
}

// Containers pack their children in rows ("box"); hosts are packed in rows at the root
// ("rectpacking" keeps their order and the aspect ratio), so 50 hosts form a grid instead of
// one long chain. Tunnels are drawn by React Flow between the
// placed bridges; ELK only decides where boxes go.
const containerOptions = (kind: MapNode["kind"] | "root"): Record<string, string> => ({
  "elk.algorithm": kind === "root" ? "rectpacking" : "box",
  "elk.padding": kind === "root" ? "[top=16,left=16,bottom=16,right=16]" : kind === "host" ? "[top=40,left=12,bottom=12,right=12]" : "[top=34,left=10,bottom=10,right=10]",
  "elk.spacing.nodeNode": kind === "root" ? "56" : "10",
  "elk.box.packingMode": "GROUP_MIXED",
  "elk.aspectRatio": kind === "root" ? "1.9" : kind === "host" ? "1.2" : "2.2",
});

/** Positions (relative to each node's parent, as React Flow wants them) for every node. */
export async function layoutMap(graph: MapGraph): Promise<Map<string, Box>> {
  const children = new Map<string | null, MapNode[]>();
  for (const n of graph.nodes) {
    const list = children.get(n.parentId) ?? [];
    list.push(n);
    children.set(n.parentId, list);
  }
  const build = (n: MapNode): ElkNode => {
    const kids = children.get(n.id) ?? [];
    if (n.kind === "vm" || n.kind === "remote" || (n.kind === "vm-group" && !kids.length)) return { id: n.id, ...LEAF_SIZE[n.kind] };
    // An empty bridge or host still needs a body to read its header.
    if (!kids.length) return { id: n.id, width: Math.max(headerWidth(n), n.kind === "host" ? 220 : 190), height: n.kind === "host" ? 80 : 52 };
    const layoutOptions = {
      ...containerOptions(n.kind),
      "elk.nodeSize.constraints": "MINIMUM_SIZE",
      "elk.nodeSize.minimum": `(${headerWidth(n)}, 40)`,
    };
    return { id: n.id, layoutOptions, children: kids.map(build) };
  };
  const root: ElkNode = { id: "root", layoutOptions: containerOptions("root"), children: (children.get(null) ?? []).map(build) };
  const placed = await elk.layout(root);
  const boxes = new Map<string, Box>();
  const walk = (n: ElkNode) => {
    for (const c of n.children ?? []) {
      boxes.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 });
      walk(c);
    }
  };
  walk(placed);
  return boxes;
}
