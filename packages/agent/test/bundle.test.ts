import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

  /** One `serve --stdio` as sshd would start it, with `call` to send a request and await its answer. */
  function serve(config: string) {
    const child = spawn(process.execPath, [join(out, manifest.file), "serve", "--stdio", "--config", config], { cwd: tmpdir(), stdio: ["pipe", "pipe", "pipe"] });
    const replies: { id?: number; jsonrpc?: string; result?: unknown; error?: unknown }[] = [];
    createInterface({ input: child.stdout }).on("line", (l) => replies.push(JSON.parse(l)));
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let nextId = 0;
    const call = async (method: string, params: unknown) => {
      const id = ++nextId;
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
      const until = Date.now() + 15_000;
      for (;;) {
        const r = replies.find((x) => x.id === id);
        if (r) return r;
        if (Date.now() > until) throw new Error(`no reply to ${method}; stderr: ${stderr}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const exit = new Promise<number | null>((res) => child.on("close", res));
    return { child, call, replies, exit };
  }

  function writeConfig(name: string, daemon: Record<string, unknown>) {
    const config = join(out, name);
    writeFileSync(config, JSON.stringify({ hostname: "bundle-test", capabilities: [], daemon: { runDir: join(out, "run"), ...daemon } }));
    return config;
  }

  it("answers hello and a snapshot over stdio, logging only to stderr", async () => {
    const s = serve(writeConfig("agent.json", { lingerMs: 0 }));
    const hello = HelloResult.parse((await s.call("hello", { protocol: PROTOCOL_VERSION, server: "test" })).result);
    expect(hello).toMatchObject({ protocol: PROTOCOL_VERSION, agentVersion: manifest.version, hostname: "bundle-test", capabilities: [] });
    const inv = (await s.call("inventory.snapshot", {})).result as { node: unknown; virt: unknown };
    expect(NodeFacts.parse(inv.node).hostname).toBe("bundle-test");
    expect(inv.virt).toBeNull();
    s.child.stdin.end();
    expect(await s.exit).toBe(0);
    expect(s.replies.every((r) => r.jsonrpc === "2.0")).toBe(true);
  }, 30_000);

  it("outlives a dropped link: the next serve reaches the same agent (same bootId), whose run directory is private", async () => {
    const config = writeConfig("agent-linger.json", { lingerMs: 600_000 });
    const first = serve(config);
    const a = HelloResult.parse((await first.call("hello", { protocol: PROTOCOL_VERSION, server: "test" })).result);
    // The SSH link drops: sshd closes the agent's stdin and stdout.
    first.child.stdin.destroy();
    first.child.stdout.destroy();
    await first.exit;
    const second = serve(config);
    try {
      const b = HelloResult.parse((await second.call("hello", { protocol: PROTOCOL_VERSION, server: "test" })).result);
      expect(b.bootId).toBe(a.bootId);
      expect(statSync(join(out, "run")).mode & 0o777).toBe(0o700);
      expect(existsSync(join(out, "run", `agent-${manifest.version}.sock`))).toBe(true);
    } finally {
      second.child.stdin.end();
      await second.exit;
      process.kill(Number(a.bootId.split("-")[0]), "SIGTERM");
    }
  }, 30_000);
});
