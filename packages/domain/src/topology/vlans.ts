import type { PortMode } from "../inventory.js";

/**
 * Whether a port lets frames of `vlan` through (null = untagged), with Open vSwitch semantics:
 * a tag alone makes an access port; a trunk list names the VLANs it carries (plus its native
 * tag, if any); no tag and no list carries everything.
 */
export function carriesVlan(port: { vlan: number | null; trunks: readonly number[] }, vlan: number | null): boolean {
  if (port.trunks.length) return vlan !== null && (port.trunks.includes(vlan) || port.vlan === vlan);
  if (port.vlan !== null) return port.vlan === vlan;
  return true;
}

/** Ports a VM's VLAN leaves the host through. */
export const isTrunkLike = (p: { mode: PortMode; uplink: boolean }) => p.mode === "trunk" || p.mode === "uplink" || p.uplink;

/** Ports that can legitimately have no VM behind them. */
export const isInfrastructurePort = (p: { mode: PortMode; uplink: boolean }) =>
  isTrunkLike(p) || p.mode === "vxlan" || p.mode === "internal";

export const sortNumbers = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);
export const sortStrings = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** Appends to the list under `key`, creating it: the one grouping helper the topology code uses. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}
