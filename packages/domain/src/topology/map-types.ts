import type { ConnectionState } from "../fleet.js";
import type { InstanceState } from "../views.js";
import type { Finding } from "./findings.js";

/**
 * Map data for the network page: nodes with parent ids (host ⊃ bridge ⊃ VM group ⊃ VM) and
 * edges, no positions (the web lays them out). Parents always come before their children in
 * `nodes`, as React Flow requires.
 */
export interface MapFilter {
  tenant?: string;
  vni?: number;
  vlan?: number;
}

export interface MapOptions {
  /** Group ids the user opened. */
  expanded?: ReadonlySet<string>;
  /** All filters must match (AND). */
  filter?: MapFilter;
  /** Groups of at most this many VMs show their VMs without being opened. Default 3. */
  expandUpTo?: number;
  /** Findings to badge nodes and edges with. */
  findings?: readonly Finding[];
}

interface NodeBase {
  id: string;
  parentId: string | null;
  label: string;
  /** Ids of the findings that name this object (for a group: any of its VMs). */
  findingIds: string[];
}

export interface HostNode extends NodeBase {
  kind: "host";
  host: string;
  state: ConnectionState;
  /** VMs shown under this host (after filtering). */
  vmCount: number;
}

export interface BridgeNode extends NodeBase {
  kind: "bridge";
  host: string;
  bridge: string;
  bridgeType: "linux" | "ovs";
  mtu: number | null;
  vlans: number[];
  vnis: number[];
}

export interface VmGroupNode extends NodeBase {
  kind: "vm-group";
  host: string;
  /** null for VMs without NICs. */
  bridge: string | null;
  vlan: number | null;
  vmCount: number;
  tenants: string[];
  vnis: number[];
  /** When false, the group stands for its VMs and none of them is in `nodes`. */
  expanded: boolean;
}

export interface VmNode extends NodeBase {
  kind: "vm";
  host: string;
  vm: string;
  tenant: string | null;
  state: InstanceState;
  vlan: number | null;
  vnis: number[];
}

/** A tunnel endpoint no host of the fleet owns. */
export interface RemoteNode extends NodeBase {
  kind: "remote";
  address: string;
}

export type MapNode = HostNode | BridgeNode | VmGroupNode | VmNode | RemoteNode;

export interface TunnelEdge {
  id: string;
  kind: "tunnel";
  source: string;
  target: string;
  vni: number;
  tenants: string[];
  /** Both directions exist; false means only source → target does. */
  bidirectional: boolean;
  /** Every tunnel port behind the edge is up. */
  up: boolean;
  ports: string[];
  findingIds: string[];
}

/** A VM's further NIC (or a collapsed group's), drawn to the bridge it plugs into. */
export interface NicEdge {
  id: string;
  kind: "nic";
  source: string;
  target: string;
  count: number;
}

export type MapEdge = TunnelEdge | NicEdge;

export interface MapGraph {
  nodes: MapNode[];
  edges: MapEdge[];
}

export const mapIds = {
  host: (host: string) => `host:${host}`,
  bridge: (host: string, bridge: string) => `bridge:${host}/${bridge}`,
  group: (host: string, bridge: string | null, vlan: number | null) =>
    bridge === null ? `group:${host}/-/none` : `group:${host}/${bridge}/${vlan ?? "untagged"}`,
  vm: (host: string, vm: string) => `vm:${host}/${vm}`,
  remote: (address: string) => `remote:${address}`,
};
