"use client";
import type { TunnelEdge as TunnelEdgeData } from "@nimbus/domain";
import { BaseEdge, EdgeLabelRenderer, type EdgeProps } from "@xyflow/react";
import { vniColor } from "./vni-colors";

export interface TunnelEdgeProps extends Record<string, unknown> {
  tunnel: TunnelEdgeData;
  /** Position among the tunnels between the same two bridges, so parallel VNIs fan out. */
  lane: number;
  lanes: number;
  findings: number;
}

/**
 * A VXLAN tunnel between two bridges: coloured by VNI, dashed when only one direction exists,
 * red-dashed when down. Parallel tunnels bend apart instead of drawing over each other.
 */
export function TunnelEdge({ id, sourceX, sourceY, targetX, targetY, data }: EdgeProps & { data: TunnelEdgeProps }) {
  const { tunnel, lane, lanes } = data;
  const dx = targetX - sourceX;
  const dy = targetY - sourceY;
  const length = Math.hypot(dx, dy) || 1;
  const bend = (lane - (lanes - 1) / 2) * 56;
  const cx = (sourceX + targetX) / 2 - (dy / length) * bend;
  const cy = (sourceY + targetY) / 2 + (dx / length) * bend;
  const path = `M ${sourceX},${sourceY} Q ${cx},${cy} ${targetX},${targetY}`;
  const color = tunnel.up ? vniColor(tunnel.vni) : "var(--crit)";
  const labelX = (sourceX + 2 * cx + targetX) / 4;
  const labelY = (sourceY + 2 * cy + targetY) / 4;
  return (
    <>
      <BaseEdge id={id} path={path} style={{ stroke: color, strokeWidth: 2.5, strokeDasharray: tunnel.bidirectional && tunnel.up ? undefined : "6 4" }} />
      <EdgeLabelRenderer>
        <div
          className="pointer-events-none absolute rounded px-1 text-[10px] font-semibold text-white shadow"
          // Above the host boxes the curve crosses, so every tunnel stays labelled.
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)`, background: color, zIndex: 1000 }}
        >
          VNI {tunnel.vni}
          {!tunnel.bidirectional && " · one way"}
          {!tunnel.up && " · down"}
          {data.findings > 0 && " ⚠"}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

export const edgeTypes = { tunnel: TunnelEdge };
