import type { ConnectionState } from "../fleet.js";
import type { NetInterface, PortMode } from "../inventory.js";
import type { InstanceState, TenantInfo } from "../views.js";

/**
 * The fleet's network as one plain-data graph: hosts hold bridges, bridges hold ports, VM NICs
 * point at the port they are plugged into, VXLAN ports become tunnels between hosts. Plain
 * arrays and ids only (no Maps, no cycles), so it serialises as-is over the API.
 *
 * Ids: bridge `host/bridge`, port `host/bridge/port`, VM `host/vm`. Host, VM and device names
 * never contain '/', so ids are unambiguous.
 */
export interface Topology {
  /** null for the staff view; the tenant slug when `scopeTopology` cut it down. */
  scope: string | null;
  hosts: TopoHost[];
  tunnels: TopoTunnel[];
  tenants: TenantInfo[];
}

export interface TopoHost {
  name: string;
  /** Where the server reaches the host (HostRecord.address). */
  address: string;
  state: ConnectionState;
  maintenance: boolean;
  /** False when the host has not reported its network: rules do not judge what they cannot see. */
  netKnown: boolean;
  /** IP addresses (no prefix length) of the host's interfaces, loopback and link-local left out. */
  underlay: string[];
  interfaces: TopoInterface[];
  bridges: TopoBridge[];
  vms: TopoVm[];
}

export interface TopoInterface {
  name: string;
  kind: NetInterface["kind"];
  mtu: number | null;
  up: boolean;
  master: string | null;
  /** As reported, usually with prefix length ("10.99.0.1/24"). */
  addresses: string[];
}

export interface TopoBridge {
  id: string;
  host: string;
  name: string;
  type: "linux" | "ovs";
  mtu: number | null;
  ports: TopoPort[];
}

export interface TopoVxlan {
  vni: number;
  local: string | null;
  /** null for a learning/multicast or flow-based endpoint that has no single remote. */
  remote: string | null;
  dstPort: number;
  /** The known host that owns `remote`; null when no host does (or remote is null). */
  remoteHost: string | null;
}

export interface TopoPort {
  id: string;
  host: string;
  bridge: string;
  name: string;
  mode: PortMode;
  /** Access VLAN (on a VXLAN port: the local VLAN bridged into the VNI). */
  vlan: number | null;
  /** Trunked VLANs; empty on a trunk means "all". */
  trunks: number[];
  vxlan: TopoVxlan | null;
  /** Leaves the host: mode uplink, or a physical NIC enslaved to the bridge. */
  uplink: boolean;
  mtu: number | null;
  up: boolean;
  /** The VM NIC plugged in, matched against the host's domains by device name or MAC. */
  nic: { vm: string; mac: string } | null;
  /** Who the port serves: the VM's tenant, or the owners of the VXLAN's VNI. Empty for shared infrastructure. */
  tenants: string[];
}

export interface TopoNic {
  mac: string;
  bridge: string;
  bridgeType: "linux" | "ovs";
  device: string | null;
  /** The port this NIC is plugged into; null when the host lists no such port. */
  portId: string | null;
  /** Effective VLAN: the domain XML's tag, else the port's access tag. */
  vlan: number | null;
  /** VNIs bridged into this NIC's segment (same bridge, VXLAN port carrying its VLAN). */
  vnis: number[];
  ipAddresses: string[];
}

export interface TopoVm {
  id: string;
  name: string;
  host: string;
  tenant: string | null;
  role: string | null;
  state: InstanceState;
  /**
   * Running, paused or suspended. Placement rules only judge active VMs: a shut-off definition
   * left on a host after a migration must not raise network findings.
   */
  active: boolean;
  nics: TopoNic[];
}

export interface TopoTunnel {
  /** Same as the VXLAN port's id. */
  id: string;
  vni: number;
  from: string;
  /** Resolved remote host; null when the remote is unknown or there is no single remote. */
  to: string | null;
  remote: string | null;
  local: string | null;
  dstPort: number;
  bridge: string;
  port: string;
  /** Local VLAN bridged into the VNI, when the port is tagged. */
  vlan: number | null;
  up: boolean;
  tenants: string[];
}

export const bridgeId = (host: string, bridge: string) => `${host}/${bridge}`;
export const portId = (host: string, bridge: string, port: string) => `${host}/${bridge}/${port}`;
export const vmId = (host: string, vm: string) => `${host}/${vm}`;
