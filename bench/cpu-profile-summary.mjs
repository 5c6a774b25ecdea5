/**
 * `node bench/cpu-profile-summary.mjs DIR [--top N] [--phase NAME]`: the top CPU costs in each phase
 * of the profiles `pnpm bench --only connect --cpu-prof DIR` wrote (DIR/phases.json and one
 * directory of V8 profiles per process and run: server-1, lab-1, ...). For each process and phase:
 * the CPU seconds the profile saw, then functions by self time and by total time (the function
 * and what it called), and the time per area (ssh2 files, node:crypto, zod, GC, ...).
 * `--areas N`: how many areas to list (15).
 * `--under NAME`: only samples with a frame whose function name is NAME on their stack, and the
 * functions directly below the outermost such frame (where that time went).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" }, areas: { type: "string", default: "15" }, phase: { type: "string" }, under: { type: "string" } } });
const dir = positionals[0];
if (!dir) throw new Error("usage: node bench/cpu-profile-summary.mjs DIR [--top N] [--phase NAME]");
const top = Number(values.top);
const phases = JSON.parse(readFileSync(join(dir, "phases.json"), "utf8"));

/** Where a function lives, coarsely: what to optimise. */
function areaOf(url, name) {
  if (!url) return name.startsWith("(") ? name : `native ${name}`;
  const m = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (m) return m[1] === "ssh2" ? `ssh2/${m[2].replace(/^lib\//, "")}` : m[1];
  if (url.startsWith("node:")) return url;
  const w = url.match(/\/(packages|apps)\/([^/]+)\/src\/(.*)$/);
  return w ? `${w[1]}/${w[2]}/${w[3]}` : url;
}

function summarize(profile, window) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  const areas = new Map();
  const below = new Map();
  let t = profile.startTime;
  let us = 0;
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < window.startUs || t > window.endUs) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    if (f.functionName === "(idle)") continue;
    if (values.under) {
      // The stack from the root down; the frame right below the outermost NAME.
      const stack = [];
      for (let id = node.id; id !== undefined; id = parent.get(id)) stack.unshift(byId.get(id).callFrame);
      const at = stack.findIndex((cf) => cf.functionName === values.under);
      if (at === -1) continue;
      const next = stack[at + 1];
      add(below, next ? `${next.functionName || "(anonymous)"} ${areaOf(next.url, next.functionName)}:${next.lineNumber + 1}` : "(self)", profile.timeDeltas[i + 1] ?? 0);
    }
    us += dt;
    const key = `${f.functionName || "(anonymous)"} ${areaOf(f.url, f.functionName)}:${f.lineNumber + 1}`;
    add(self, key, dt);
    add(areas, areaOf(f.url, f.functionName || "(anonymous)"), dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      const k = `${cf.functionName || "(anonymous)"} ${areaOf(cf.url, cf.functionName)}:${cf.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      add(total, k, dt);
    }
  }
  return { us, self, total, areas, below };
}

const fmt = (us) => `${(us / 1e6).toFixed(2)} s`;
const list = (m, n, sum) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `    ${fmt(v).padStart(8)} ${((v / sum) * 100).toFixed(1).padStart(5)} %  ${k}`)
    .join("\n");

phases.forEach((runPhases, i) => {
  const run = i + 1;
  for (const proc of ["server", "lab"]) {
    const pdir = join(dir, `${proc}-${run}`);
    let files;
    try {
      files = readdirSync(pdir).filter((f) => f.endsWith(".cpuprofile"));
    } catch {
      continue;
    }
    if (!files.length) continue;
    // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile); 0 is the main thread.
    for (const file of files.sort()) {
    const thread = file.split(".")[4];
    const profile = JSON.parse(readFileSync(join(pdir, file), "utf8"));
    for (const [name, window] of Object.entries(runPhases)) {
      if (values.phase && values.phase !== name) continue;
      const s = summarize(profile, window);
      const wall = (window.endUs - window.startUs) / 1e6;
      const label = `run ${run}, ${proc}${thread === "0" ? "" : ` thread ${thread}`}, ${name}`;
      console.log(`\n== ${label}: ${fmt(s.us)} of CPU in ${wall.toFixed(2)} s (${((s.us / 1e6 / wall) * 100).toFixed(1)} % of a core)`);
      if (thread !== "0" && s.us < 0.05 * wall * 1e6) continue;
      if (values.under) console.log(`  directly below ${values.under}:\n${list(s.below, top, s.us)}`);
      console.log(`  by area:\n${list(s.areas, Number(values.areas), s.us)}`);
      console.log(`  self:\n${list(s.self, top, s.us)}`);
      const noise = /^\((root|program|anonymous)\)|^(processTicksAndRejections|listOnTimeout|emit|emitTwo|onStreamRead|readableAddChunk|addChunk|Readable\.push|processImmediate) /;
      console.log(`  total (incl. callees):\n${list(new Map([...s.total].filter(([k]) => !noise.test(k))), top, s.us)}`);
    }
    }
  }
});
