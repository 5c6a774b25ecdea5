interface Status {
  scenario: string;
  speed: number;
  hosts: { name: string; kind: string; address: string; port: number; reachable: boolean; poweredOn: boolean }[];
  nfs: { vip: string; heldBy: string | null };
  faults: { fault: string; target: string; since: string }[];
}

/** Human-readable `pnpm lab status`. */
export function formatStatus(raw: unknown): string {
  const s = raw as Status;
  const lines = [`scenario ${s.scenario} at speed ${s.speed}; VIP ${s.nfs.vip} on ${s.nfs.heldBy ?? "nobody"}`];
  const shown = s.hosts.slice(0, 50);
  for (const h of shown) {
    const state = h.reachable ? "up" : h.poweredOn ? "unreachable" : "down";
    lines.push(`  ${h.name.padEnd(16)} ${h.kind.padEnd(11)} ${`${h.address}:${h.port}`.padEnd(22)} ${state}`);
  }
  if (s.hosts.length > shown.length) lines.push(`  ... and ${s.hosts.length - shown.length} more hosts`);
  lines.push(s.faults.length ? "active faults:" : "no active faults");
  for (const f of s.faults) lines.push(`  ${f.fault} ${f.target} (since ${f.since})`);
  return lines.join("\n");
}
