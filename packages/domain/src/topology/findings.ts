import { indexTopology, type TopologyIndex } from "./analysis.js";
import type { Topology } from "./model.js";
import { orphanPorts, vlanNotTrunked } from "./rules-ports.js";
import { mtuTooSmall } from "./rules-mtu.js";
import { vlanReused, vniMissing, vniShared } from "./rules-tenancy.js";
import { meshIncomplete, tunnelUnknownRemote } from "./rules-tunnels.js";

export type FindingKind =
  | "vni-missing"
  | "mesh-incomplete"
  | "vlan-not-trunked"
  | "mtu-too-small"
  | "vni-shared"
  | "vlan-reused"
  | "orphan-port"
  | "tunnel-unknown-remote";

export type FindingSeverity = "crit" | "warn" | "info";

/** What a finding is about. Ports are port ids (`host/bridge/port`), VMs are names. */
export interface FindingObjects {
  hosts?: string[];
  vms?: string[];
  vni?: number;
  vlan?: number;
  tenants?: string[];
  ports?: string[];
}

export interface Finding {
  /** Same problem, same id, across recomputations: kind plus the objects that identify it. */
  id: string;
  kind: FindingKind;
  severity: FindingSeverity;
  /** Names the objects involved; names no tenant, VM, VNI or VLAN beyond those in `objects`, so scoping by objects is safe. */
  message: string;
  objects: FindingObjects;
}

export type FindingRule = (ix: TopologyIndex) => Finding[];

export const findingId = (kind: FindingKind, ...identity: (string | number)[]) => [kind, ...identity].join(":");

const RULES: readonly FindingRule[] = [
  vniMissing,
  meshIncomplete,
  vlanNotTrunked,
  mtuTooSmall,
  vniShared,
  vlanReused,
  orphanPorts,
  tunnelUnknownRemote,
];

const severityOrder: Record<FindingSeverity, number> = { crit: 0, warn: 1, info: 2 };

/** Every consistency problem in the network picture, most severe first, then by id. */
export function findings(topology: Topology): Finding[] {
  const ix = indexTopology(topology);
  return RULES.flatMap((rule) => rule(ix)).sort(
    (a, b) => severityOrder[a.severity] - severityOrder[b.severity] || a.id.localeCompare(b.id),
  );
}

/** "a, b, c and 4 more": messages stay one line on a 50-host fleet. */
export function listNames(names: readonly string[], max = 5): string {
  if (names.length <= max) return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}
