import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HelloResult, NodeFacts, PROTOCOL_VERSION } from "@nimbus/domain";

const pkg = fileURLToPath(new URL("..", import.meta.url));

// The file the server uploads: built here into a temp dir, then run as a host would run it.
describe("the bundled agent (dist/nimbus-agent.cjs)", () => {
  let out: string;
  let manifest: { version: string; sha256: string; file: string };
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "nimbus-agent-bundle-"));
    execFileSync(process.execPath, [join(pkg, "scripts/bundle.mjs"), out], { stdio: "pipe" });
    manifest = JSON.parse(readFileSync(join(out, "nimbus-agent.json"), "utf8"));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is one executable file that prints the version in its manifest", () => {
    const bundle = readFileSync(join(out, manifest.file), "utf8");
    expect(bundle.startsWith("#!/usr/bin/env node")).toBe(true);
    expect(bundle).not.toMatch(/require\("(zod|fast-xml-parser|@nimbus\/[a-z]+)"\)/);
    const version = execFileSync(join(out, manifest.file), ["version"], { cwd: tmpdir() }).toString().trim();
    expect(version).toBe(manifest.version);
    expect(version).toMatch(/^[0-9a-f]{16}$/);
  });

  it("answers hello and a snapshot over stdio, logging only to stderr", async () => {
    const config = join(out, "agent.json");
    writeFileSync(config, JSON.stringify({ hostname: "bundle-test", capabilities: [] }));
    const child = spawn(process.execPath, [join(out, manifest.file), "serve", "--stdio", "--config", config], { cwd: tmpdir(), stdio: ["pipe", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stdout });
    const replies: unknown[] = [];
    lines.on("line", (l) => replies.push(JSON.parse(l)));
    const waitReply = async (id: number) => {
      const until = Date.now() + 15_000;
      for (;;) {
        const r = replies.find((x) => (x as { id?: number }).id === id) as { result?: unknown; error?: unknown } | undefined;
        if (r) return r;
        if (Date.now() > until) throw new Error(`no reply ${id}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "hello", params: { protocol: PROTOCOL_VERSION, server: "test" } })}\n`);
    const hello = HelloResult.parse((await waitReply(1)).result);
    expect(hello).toMatchObject({ protocol: PROTOCOL_VERSION, agentVersion: manifest.version, hostname: "bundle-test", capabilities: [] });
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "inventory.snapshot", params: {} })}\n`);
    const inv = (await waitReply(2)).result as { node: unknown; virt: unknown };
    expect(NodeFacts.parse(inv.node).hostname).toBe("bundle-test");
    expect(inv.virt).toBeNull();
    const exit = new Promise<number | null>((res) => child.on("close", res));
    child.stdin.end();
    expect(await exit).toBe(0);
    expect(replies.every((r) => (r as { jsonrpc?: string }).jsonrpc === "2.0")).toBe(true);
  }, 30_000);
});
