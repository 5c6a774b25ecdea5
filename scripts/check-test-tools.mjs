#!/usr/bin/env node
// Fails when a test calls a system tool that scripts/test-tools.txt does not list, so that every
// tool a suite runs is installed by the project's own scripts, never by hand. Static on purpose:
// a machine that happens to have the tool (an earlier session installed it) cannot hide it.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
// Suites run before the real lab is up; the real lab installs its own packages.
const roots = ["packages", "apps", "e2e", "bench"];
const skip = (path) => /node_modules|\/dist\/|\/\.next\/|packages\/lab-real\/(src|test\/real)|e2e\/real/.test(path);
const isTestSource = (path) => /\/(test|e2e|bench)\//.test(`/${path}`) && /\.(ts|mts|mjs|js)$/.test(path);
// Calls that run a program by name: Tool/tool wrappers, child_process, and the test helpers' run().
// A stand-in given a handler instead of arguments (`tool("virt-builder", (args) => …)`) runs nothing.
const CALL = /\b(?:new Tool|tool|run|execFileSync|execFile|spawnSync|spawn)\(\s*"([a-z0-9][a-z0-9_.+-]*)"(?!\s*,\s*(?:async\s*)?\()/g;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (skip(rel)) continue;
    if (statSync(path).isDirectory()) yield* files(path);
    else if (isTestSource(rel)) yield rel;
  }
}

const listed = new Map(
  readFileSync(join(root, "scripts/test-tools.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => l.trim().split(/\s+/))
    .map(([tool, pkg]) => [tool, pkg]),
);

const unlisted = new Map();
for (const top of roots) {
  for (const file of files(join(root, top))) {
    for (const [, tool] of readFileSync(join(root, file), "utf8").matchAll(CALL)) {
      if (!listed.has(tool)) unlisted.set(tool, [...(unlisted.get(tool) ?? []), file]);
    }
  }
}

if (unlisted.size) {
  console.error("Tests call tools that no project script installs (add each to scripts/test-tools.txt with its Debian package):");
  for (const [tool, where] of unlisted) console.error(`  ${tool}: ${[...new Set(where)].join(", ")}`);
  process.exit(1);
}
console.log(`› test tools: ${listed.size} listed, every tool the suites call is installed by scripts/system-deps.sh or is on every Debian image`);
