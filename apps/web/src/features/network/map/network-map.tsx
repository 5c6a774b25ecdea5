"use client";
import "@xyflow/react/dist/style.css";
import type { MapGraph } from "@nimbus/domain";
import { Background, Controls, MiniMap, ReactFlow, type Edge, type Node } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { Skeleton } from "@/components/ui/states";
import { useDark } from "@/lib/use-dark";
import { layoutMap, type Box } from "./layout";
import { nodeTypes, type MapNodeData } from "./nodes";
import { edgeTypes, type TunnelEdgeProps } from "./tunnel-edge";

/**
 * The interactive network map: hosts containing bridges containing VM groups (or VMs when
 * opened), tunnels between bridges coloured by VNI. The graph comes from the domain's mapGraph
 * (filters, grouping, finding badges); ELK places the boxes; React Flow draws and pans.
 */
export function NetworkMap({
  graph,
  selected,
  onSelect,
  onToggle,
}: {
  /** From the domain's mapGraph (filters, grouping, badges applied), bare hosts removed. */
  graph: MapGraph;
  selected: string | null;
  onSelect: (id: string | null) => void;
  onToggle: (groupId: string) => void;
}) {
  const dark = useDark();
  const [boxes, setBoxes] = useState<Map<string, Box> | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    layoutMap(graph)
      .then((b) => current && setBoxes(b))
      .catch((e: unknown) => current && setLayoutError(e instanceof Error ? e.message : String(e)));
    return () => {
      current = false;
    };
  }, [graph]);

  const { nodes, edges } = useMemo(() => {
    if (!boxes) return { nodes: [] as Node[], edges: [] as Edge[] };
    const nodes: Node<MapNodeData>[] = graph.nodes.map((n) => {
      const b = boxes.get(n.id) ?? { x: 0, y: 0, width: 150, height: 30 };
      return {
        id: n.id,
        type: n.kind,
        parentId: n.parentId ?? undefined,
        position: { x: b.x, y: b.y },
        width: b.width,
        height: b.height,
        style: { width: b.width, height: b.height },
        draggable: false,
        connectable: false,
        // Containers first in the array (the domain guarantees it); keep them under their children.
        zIndex: n.kind === "host" ? 0 : n.kind === "bridge" ? 1 : 2,
        data: { node: n, findings: n.findingIds.length, selected: n.id === selected, onToggle },
      };
    });
    const lanes = new Map<string, string[]>();
    for (const e of graph.edges) {
      if (e.kind !== "tunnel") continue;
      const key = [e.source, e.target].sort().join("~");
      lanes.set(key, [...(lanes.get(key) ?? []), e.id]);
    }
    const edges: Edge[] = graph.edges.map((e) => {
      if (e.kind === "tunnel") {
        const lane = lanes.get([e.source, e.target].sort().join("~"))!;
        const data: TunnelEdgeProps = { tunnel: e, lane: lane.indexOf(e.id), lanes: lane.length, findings: e.findingIds.length };
        return { id: e.id, source: e.source, target: e.target, type: "tunnel", data, zIndex: 5, selected: e.id === selected };
      }
      return {
        id: e.id,
        source: e.source,
        target: e.target,
        label: e.count > 1 ? `${e.count} NICs` : undefined,
        style: { stroke: "var(--faint)", strokeDasharray: "3 3" },
        zIndex: 4,
      };
    });
    return { nodes, edges };
  }, [boxes, graph, selected, onToggle]);

  if (layoutError) return <p className="p-4 text-[13px] text-crit">The map could not be laid out: {layoutError}</p>;
  if (!boxes)
    return (
      <div className="flex h-full flex-col gap-2 p-4" aria-busy="true" aria-label="Laying out the map">
        <Skeleton className="h-4 w-48" />
        <Skeleton className="h-40 w-full" />
      </div>
    );
  if (!graph.nodes.length) return <p className="p-8 text-center text-[13px] text-muted">Nothing on the map matches these filters.</p>;

  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      fitView
      fitViewOptions={{ padding: 0.08 }}
      minZoom={0.05}
      maxZoom={2}
      nodesDraggable={false}
      nodesConnectable={false}
      onlyRenderVisibleElements
      onNodeClick={(_, n) => onSelect(n.id)}
      onEdgeClick={(_, e) => onSelect(e.id)}
      onPaneClick={() => onSelect(null)}
      proOptions={{ hideAttribution: true }}
      colorMode={dark ? "dark" : "light"}
    >
      <Background gap={24} size={1} />
      <Controls showInteractive={false} />
      {graph.nodes.length > 60 && <MiniMap pannable zoomable className="!bg-panel" maskColor="rgba(0,0,0,0.08)" />}
    </ReactFlow>
  );
}

/**
 * Hosts with no bridge, VM or tunnel (storage servers, swarm VMs seen as hosts) say nothing
 * about the network; the page lists them under the map instead of drawing empty boxes.
 */
export function withoutBareHosts(graph: MapGraph): MapGraph {
  const parents = new Set(graph.nodes.map((n) => n.parentId));
  const ends = new Set(graph.edges.flatMap((e) => [e.source, e.target]));
  const bare = new Set(graph.nodes.filter((n) => n.kind === "host" && !parents.has(n.id) && !ends.has(n.id)).map((n) => n.id));
  return bare.size ? { nodes: graph.nodes.filter((n) => !bare.has(n.id)), edges: graph.edges } : graph;
}
