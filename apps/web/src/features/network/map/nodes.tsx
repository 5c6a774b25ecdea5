"use client";
import type { BridgeNode, HostNode, MapNode, RemoteNode, VmGroupNode, VmNode } from "@nimbus/domain";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { cx } from "@/lib/cx";
import { connectionStatus, domainStatus } from "@/lib/status";
import { toneFill } from "@/components/ui/tone";
import { vniColor } from "./vni-colors";

/** What every map node carries: the domain node, how many findings name it, and interaction. */
export interface MapNodeData extends Record<string, unknown> {
  node: MapNode;
  findings: number;
  selected: boolean;
  onToggle?: (groupId: string) => void;
}

// Edges need handles; these sit at the centre, invisible, so tunnels meet boxes in the middle.
const hidden = "!h-1 !w-1 !min-h-0 !min-w-0 !border-0 !bg-transparent";
const Handles = () => (
  <>
    <Handle type="source" position={Position.Top} className={hidden} style={{ left: "50%", top: "50%" }} isConnectable={false} />
    <Handle type="target" position={Position.Top} className={hidden} style={{ left: "50%", top: "50%" }} isConnectable={false} />
  </>
);

function FindingBadge({ count }: { count: number }) {
  if (!count) return null;
  return (
    <span title={`${count} finding${count > 1 ? "s" : ""}`} className="ml-auto inline-flex h-4 min-w-4 items-center justify-center rounded-full bg-crit px-1 text-[10px] font-bold text-white dark:text-black">
      {count}
    </span>
  );
}

export function HostBox({ data }: NodeProps & { data: MapNodeData }) {
  const n = data.node as HostNode;
  const status = connectionStatus(n.state);
  return (
    <div className={cx("h-full w-full rounded-xl border-2 bg-panel-2/70", data.selected ? "border-accent" : "border-border")}>
      <Handles />
      <div className="flex items-center gap-2 whitespace-nowrap px-3 pt-2 text-[13px]">
        <span className={cx("size-2 rounded-full", toneFill[status.tone])} aria-hidden />
        <span className="font-semibold">{n.label}</span>
        <span className="text-[11px] text-muted">
          {status.label} · {n.vmCount} VMs
        </span>
        <FindingBadge count={data.findings} />
      </div>
    </div>
  );
}

export function BridgeBox({ data }: NodeProps & { data: MapNodeData }) {
  const n = data.node as BridgeNode;
  return (
    <div className={cx("h-full w-full rounded-lg border bg-panel", data.selected ? "border-accent ring-2 ring-accent/30" : "border-border")}>
      <Handles />
      <div className="flex items-center gap-1.5 whitespace-nowrap px-2.5 pt-1.5 text-[12px]">
        <span className="font-mono font-semibold">{n.bridge}</span>
        <span className="text-[10.5px] text-muted">{n.bridgeType === "ovs" ? "OVS" : "Linux"}</span>
        {n.vnis.map((v) => (
          <span key={v} className="rounded px-1 text-[10px] font-semibold text-white" style={{ background: vniColor(v) }}>
            {v}
          </span>
        ))}
        <FindingBadge count={data.findings} />
      </div>
    </div>
  );
}

export function GroupChip({ data }: NodeProps & { data: MapNodeData }) {
  const n = data.node as VmGroupNode;
  return (
    <div
      className={cx(
        "h-full w-full rounded-md border bg-panel-2 px-2 py-1 text-[11.5px]",
        n.expanded ? "border-dashed" : "",
        data.selected ? "border-accent" : "border-border",
      )}
    >
      <Handles />
      <div className="flex items-center gap-1">
        <span className="font-medium">{n.vlan !== null ? `VLAN ${n.vlan}` : "untagged"}</span>
        <span className="text-muted">· {n.vmCount} VMs</span>
        <FindingBadge count={data.findings} />
      </div>
      <button
        type="button"
        className="nodrag text-[10.5px] text-accent hover:underline"
        onClick={(e) => {
          e.stopPropagation();
          data.onToggle?.(n.id);
        }}
      >
        {n.expanded ? "collapse" : n.tenants.length ? `${n.tenants.join(", ")} · expand` : "expand"}
      </button>
    </div>
  );
}

export function VmChip({ data }: NodeProps & { data: MapNodeData }) {
  const n = data.node as VmNode;
  const status = domainStatus(n.state);
  return (
    <div
      title={`${n.vm}${n.tenant ? ` (${n.tenant})` : ""}: ${status.label}`}
      className={cx("flex h-full w-full items-center gap-1.5 rounded-md border bg-panel px-2 text-[11.5px]", data.selected ? "border-accent" : "border-border")}
    >
      <Handles />
      <span aria-hidden className={cx("size-1.5 shrink-0 rounded-full", toneFill[status.tone])} />
      <span className="truncate font-medium">{n.vm}</span>
      <FindingBadge count={data.findings} />
    </div>
  );
}

export function RemoteBox({ data }: NodeProps & { data: MapNodeData }) {
  const n = data.node as RemoteNode;
  return (
    <div className={cx("flex h-full w-full flex-col justify-center rounded-lg border-2 border-dashed border-crit/60 bg-crit-soft/40 px-2 text-[11.5px]", data.selected && "ring-2 ring-accent/40")}>
      <Handles />
      <span className="font-medium">unknown remote</span>
      <span className="font-mono text-[11px]">{n.address}</span>
    </div>
  );
}

export const nodeTypes = { host: HostBox, bridge: BridgeBox, "vm-group": GroupChip, vm: VmChip, remote: RemoteBox };
