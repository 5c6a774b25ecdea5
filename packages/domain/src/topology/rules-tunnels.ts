import { meshState, type TopologyIndex } from "./analysis.js";
import { findingId, listNames, type Finding } from "./findings.js";
import { sortStrings } from "./vlans.js";

const ownersText = (tenants: readonly string[]) => (tenants.length ? ` (${listNames(tenants)})` : "");

/** A direction between two hosts of a VNI has no working tunnel. One finding per VNI. */
export function meshIncomplete(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const vni of ix.vnis) {
    const mesh = meshState(ix, vni);
    if (mesh.complete) continue;
    const tenants = ix.owners.get(vni) ?? [];
    out.push({
      id: findingId("mesh-incomplete", vni),
      kind: "mesh-incomplete",
      severity: "crit",
      message: `VXLAN mesh of VNI ${vni}${ownersText(tenants)} is incomplete: no working tunnel ${listNames(mesh.missing.map((m) => `${m.from} → ${m.to}`))}`,
      objects: { vni, tenants: [...tenants], hosts: sortStrings(mesh.missing.flatMap((m) => [m.from, m.to])) },
    });
  }
  return out;
}

/** A tunnel points at an address no host of the fleet has: traffic for the VNI goes nowhere we know. */
export function tunnelUnknownRemote(ix: TopologyIndex): Finding[] {
  return ix.topology.tunnels.flatMap((t): Finding[] => {
    if (t.remote === null || t.to !== null || !ix.hosts.get(t.from)?.netKnown) return [];
    return [
      {
        id: findingId("tunnel-unknown-remote", t.id),
        kind: "tunnel-unknown-remote",
        severity: "warn",
        message: `Tunnel ${t.port} on ${t.from} (VNI ${t.vni}) points at ${t.remote}, which is no known host`,
        objects: { hosts: [t.from], ports: [t.id], vni: t.vni, tenants: [...t.tenants] },
      },
    ];
  });
}
