import type { Finding, MapGraph, MapNode, TunnelEdge } from "@nimbus/domain";
import Link from "next/link";
import { Facts } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { connectionStatus, domainStatus } from "@/lib/status";
import { FindingsList } from "../findings-list";

/** What the user clicked on the map: its facts and the findings that name it. */
export function MapDetails({ graph, findings, selected, linkHosts }: { graph: MapGraph; findings: Finding[]; selected: string; linkHosts: boolean }) {
  const node = graph.nodes.find((n) => n.id === selected);
  const edge = graph.edges.find((e) => e.id === selected);
  const related = (ids: string[]) => findings.filter((f) => ids.includes(f.id));
  if (node) return <NodeDetails node={node} findings={related(node.findingIds)} linkHosts={linkHosts} />;
  if (edge?.kind === "tunnel") return <TunnelDetails edge={edge} findings={related(edge.findingIds)} />;
  return <p className="text-[13px] text-muted">The selection is not on the map with these filters.</p>;
}

function NodeDetails({ node, findings, linkHosts }: { node: MapNode; findings: Finding[]; linkHosts: boolean }) {
  const facts: [string, React.ReactNode][] = [];
  let title: React.ReactNode = node.label;
  switch (node.kind) {
    case "host":
      title = linkHosts ? <Link href={`/hosts/${encodeURIComponent(node.host)}`} className="hover:text-accent hover:underline">{node.host}</Link> : node.host;
      facts.push(["State", <StatusBadge key="s" status={connectionStatus(node.state)} />], ["VMs shown", String(node.vmCount)]);
      break;
    case "bridge":
      facts.push(["Host", node.host], ["Type", node.bridgeType === "ovs" ? "Open vSwitch" : "Linux bridge"], ["MTU", node.mtu ?? "—"], ["VLANs", node.vlans.join(", ") || "—"], ["VNIs", node.vnis.join(", ") || "—"]);
      break;
    case "vm-group":
      facts.push(["Host", node.host], ["Bridge", node.bridge ?? "no NIC"], ["VLAN", node.vlan ?? "untagged"], ["VMs", String(node.vmCount)], ["Tenants", node.tenants.join(", ") || "—"], ["VNIs", node.vnis.join(", ") || "—"]);
      break;
    case "vm":
      title = <Link href={`/instances/${encodeURIComponent(node.vm)}`} className="hover:text-accent hover:underline">{node.vm}</Link>;
      facts.push(["State", <StatusBadge key="s" status={domainStatus(node.state)} />], ["Host", node.host], ["Tenant", node.tenant ?? "infrastructure"], ["VLAN", node.vlan ?? "untagged"], ["VNIs", node.vnis.join(", ") || "—"]);
      break;
    case "remote":
      facts.push(["Address", <span key="a" className="font-mono">{node.address}</span>], ["Known host", "none: no host of the fleet has this address"]);
      break;
  }
  return (
    <div className="flex flex-col gap-3" data-testid="map-details">
      <div>
        <div className="text-[11px] font-semibold uppercase tracking-wide text-muted">{node.kind.replace("-", " ")}</div>
        <div className="text-[15px] font-semibold">{title}</div>
      </div>
      <Facts items={facts} columns={1} />
      <FindingsList findings={findings} compact empty="No findings name this." />
    </div>
  );
}

function TunnelDetails({ edge, findings }: { edge: TunnelEdge; findings: Finding[] }) {
  return (
    <div className="flex flex-col gap-3" data-testid="map-details">
      <div>
        <div className="text-[11px] font-semibold uppercase tracking-wide text-muted">VXLAN tunnel</div>
        <div className="text-[15px] font-semibold">VNI {edge.vni}</div>
      </div>
      <Facts
        columns={1}
        items={[
          ["Between", `${edge.source.replace(/^bridge:/, "")} and ${edge.target.replace(/^(bridge|host|remote):/, "")}`],
          ["Tenants", edge.tenants.join(", ") || "—"],
          ["Direction", edge.bidirectional ? "both ways" : "one way only"],
          ["Link", edge.up ? "up" : "down"],
          ["Ports", <span key="p" className="font-mono text-[11.5px]">{edge.ports.join(", ")}</span>],
        ]}
      />
      <FindingsList findings={findings} compact empty="No findings name this tunnel." />
    </div>
  );
}
