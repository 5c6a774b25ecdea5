import type { BridgePort } from "@nimbus/domain";

/** What a port carries, in one line: "VLAN 10", "VLANs 10, 20", "VNI 10010 → 10.0.0.12:4789". */
export function portConfig(p: BridgePort): string {
  switch (p.mode) {
    case "access":
      return p.vlan !== null ? `access VLAN ${p.vlan}` : "access, untagged";
    case "trunk":
    case "uplink":
      return p.trunks.length ? `trunk VLANs ${p.trunks.join(", ")}` : p.mode === "uplink" ? "uplink, all VLANs" : "trunk, all VLANs";
    case "vxlan":
      return p.vxlan ? `VNI ${p.vxlan.vni} → ${p.vxlan.remote ?? "multicast"}:${p.vxlan.dstPort}` : "VXLAN";
    case "vm":
      return p.vlan !== null ? `VLAN ${p.vlan}` : "untagged";
    case "internal":
      return p.vlan !== null ? `internal, VLAN ${p.vlan}` : "internal";
  }
}
