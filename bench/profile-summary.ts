/**
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]`: self time per function and
 * per package (node_modules package or workspace package) of a V8 CPU profile, largest first.
 * Used on the replicas' connect profiles (NIMBUS_CONNECT_PROFILE_DIR, see apps/server/src/connect-profile.ts).
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top]");
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const top = Number(topArg ?? 40);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
const pkgOf = (url: string) => {
  const m = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/) ?? url.match(/\/(packages|apps)\/([^/]+)\//);
  if (!m) return url ? (url.startsWith("node:") ? "node" : url) : "(native/gc)";
  return m[2] && m[1] !== undefined && (m[1] === "packages" || m[1] === "apps") ? `${m[1]}/${m[2]}` : m[1]!;
};
const fns = new Map<string, number>();
const pkgs = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const key = keyOf(n);
  fns.set(key, (fns.get(key) ?? 0) + us);
  const p = pkgOf(n.callFrame.url);
  pkgs.set(p, (pkgs.get(p) ?? 0) + us);
  total += us;
}
// Inclusive: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
function keyOf(n: Node): string {
  return `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(packages|apps|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
}
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(keyOf(byId.get(at)!));
  for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
}
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
console.log(`${file}: ${ms(total)} sampled over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`);
console.log("by package:");
for (const [k, v] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${ms(v)}  ${k}`);
console.log("by function:");
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)}  ${k}`);
console.log("inclusive (workspace functions):");
for (const [k, v] of [...inclusive].filter(([k]) => /(packages|apps)\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)}  ${k}`);
