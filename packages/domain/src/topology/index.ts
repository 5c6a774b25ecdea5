export * from "./model.js";
export { buildTopology } from "./build.js";
export { carriesVlan } from "./vlans.js";
export { findings, findingId, type Finding, type FindingKind, type FindingObjects, type FindingSeverity } from "./findings.js";
export { VXLAN_OVERHEAD } from "./rules-mtu.js";
export * from "./tables.js";
export * from "./scope.js";
export * from "./map-types.js";
export { mapGraph } from "./map.js";
