import { meshState, type MeshState, type TopologyIndex } from "./analysis.js";
import { findingId, listNames, type Finding } from "./findings.js";

const ownersText = (tenants: readonly string[]) => (tenants.length ? ` (${listNames(tenants)})` : "");

const MESSAGE_NAMES = 5;

/** "a → b, b → a and 4,000 more": the sample names a few, the count covers every direction. */
function missingText(mesh: MeshState): string {
  const names = mesh.missing.slice(0, MESSAGE_NAMES).map((m) => `${m.from} → ${m.to}`);
  const more = mesh.missingCount - names.length;
  if (more <= 0) return listNames(names, MESSAGE_NAMES);
  return `${names.join(", ")} and ${more.toLocaleString("en-US")} more`;
}

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
      message: `VXLAN mesh of VNI ${vni}${ownersText(tenants)} is incomplete: no working tunnel ${missingText(mesh)}`,
      objects: { vni, tenants: [...tenants], hosts: mesh.brokenHosts },
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
