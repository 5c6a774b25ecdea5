import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentInstall, FleetConfig, agentInstallFor } from "@nimbus/domain";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgentBundle } from "../src/agent-bundle.js";
import { agentFiles, minNodeMajor, nodeFound, nodeProblem, sha256sumOutput, shellQuote } from "../src/agent-install-rules.js";

const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });

describe("the host's Node.js", () => {
  it("reads the version node prints", () => {
    expect(nodeFound(ok("v20.11.1\n"))).toEqual({ kind: "version", text: "v20.11.1", major: 20 });
    expect(nodeFound(ok("v22.0.0-nightly20240101abc\n"))).toMatchObject({ kind: "version", major: 22 });
    expect(nodeFound(ok("Welcome to kvm1!\nv20.11.1\n"))).toEqual({ kind: "version", text: "v20.11.1", major: 20 });
  });

  it("takes exit 127 as no node at all", () => {
    expect(nodeFound({ code: 127, stdout: "", stderr: "sh: 1: node: not found\n" })).toEqual({ kind: "none" });
  });

  it("names another program called node by what it said", () => {
    expect(nodeFound({ code: 1, stdout: "", stderr: "node: unrecognized option '--version'\nusage: node ...\n" })).toEqual({
      kind: "unusable",
      text: `"node --version" exited 1: node: unrecognized option '--version'`,
    });
  });

  it("accepts the bundle's minimum and refuses anything older", () => {
    expect(nodeProblem("kvm1", { kind: "version", text: "v20.0.0", major: 20 }, 20)).toBeNull();
    expect(nodeProblem("kvm1", { kind: "version", text: "v18.19.0", major: 18 }, 20)).toMatch(/^kvm1: Node\.js 20 or newer .*\(found: v18\.19\.0\)/);
    expect(nodeProblem("kvm1", { kind: "none" }, 22)).toMatch(/^kvm1: Node\.js 22 or newer .*\(found: none\)\. Install it, e\.g\. `apt-get install nodejs`/);
  });

  it("takes the minimum from the manifest's range", () => {
    expect(minNodeMajor(">=20")).toBe(20);
    expect(minNodeMajor(">= 22.3")).toBe(22);
    expect(minNodeMajor(undefined)).toBe(20);
    expect(minNodeMajor("^20 || ^22")).toBe(20);
  });
});

describe("the agent's files on the host", () => {
  it("keeps each version under its own name, with a .part name for uploads in progress", () => {
    expect(agentFiles(".nimbus/agent", "abc123")).toEqual({ file: ".nimbus/agent/nimbus-agent-abc123.cjs", part: ".nimbus/agent/nimbus-agent-abc123.cjs.part" });
    expect(agentFiles("/opt/nimbus/", "v1")).toEqual({ file: "/opt/nimbus/nimbus-agent-v1.cjs", part: "/opt/nimbus/nimbus-agent-v1.cjs.part" });
  });

  it("quotes paths for the host's shell", () => {
    expect(shellQuote(".nimbus/agent/x.cjs")).toBe(`'.nimbus/agent/x.cjs'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("reads sha256sum's answer, and nothing from a failed one", () => {
    const hash = "a".repeat(64);
    expect(sha256sumOutput(ok(`${hash}  .nimbus/agent/x.cjs\n`))).toBe(hash);
    expect(sha256sumOutput({ code: 1, stdout: "", stderr: "sha256sum: x: No such file or directory\n" })).toBeNull();
    expect(sha256sumOutput(ok("garbage\n"))).toBeNull();
  });
});

describe("agent install settings in the fleet config", () => {
  const file = { ssh: { user: "nimbus", privateKeyPath: "/k" }, hosts: [{ name: "kvm1", address: "10.0.0.1" }] };

  it("uploads by default, the file's setting applies to every host, a host's own wins", () => {
    const plain = FleetConfig.parse(file);
    expect(agentInstallFor(plain, plain.hosts[0]!)).toEqual({ install: "upload" });
    const global = FleetConfig.parse({ ...file, agent: { install: "preinstalled" } });
    expect(agentInstallFor(global, global.hosts[0]!)).toEqual({ install: "preinstalled" });
    const own = FleetConfig.parse({ ...file, agent: { install: "preinstalled" }, hosts: [{ ...file.hosts[0], agent: { install: "upload", path: "/opt/nimbus" } }] });
    expect(agentInstallFor(own, own.hosts[0]!)).toEqual({ install: "upload", path: "/opt/nimbus" });
  });

  it("refuses paths that are not plain", () => {
    expect(AgentInstall.safeParse({ install: "upload", path: "$(reboot)" }).success).toBe(false);
    expect(AgentInstall.safeParse({ install: "upload", path: "a b" }).success).toBe(false);
    expect(AgentInstall.safeParse({ install: "preinstalled", path: "--help" }).success).toBe(false);
    expect(AgentInstall.safeParse({ install: "copy" }).success).toBe(false);
  });
});

describe("the agent bundle on the server", () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-bundle-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = (extra: object) => writeFileSync(join(dir, "nimbus-agent.json"), JSON.stringify({ version: "v1", bytes: 5, file: "nimbus-agent.cjs", ...extra }));

  it("is refused with a pnpm build hint when it was never built", async () => {
    await expect(loadAgentBundle(join(dir, "none"))).rejects.toThrow(/^the agent bundle is not built \(.*nimbus-agent\.json is missing\): run `pnpm build`/);
  });

  it("is refused when the file does not match its manifest (an interrupted build)", async () => {
    writeFileSync(join(dir, "nimbus-agent.cjs"), "hello");
    manifest({ sha256: "0".repeat(64) });
    await expect(loadAgentBundle(dir)).rejects.toThrow(/does not match its manifest \(a build was interrupted\?\): run `pnpm build`/);
  });

  it("loads when file and manifest agree", async () => {
    writeFileSync(join(dir, "nimbus-agent.cjs"), "hello");
    manifest({ sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", node: ">=20" });
    expect(await loadAgentBundle(dir)).toMatchObject({ version: "v1", node: ">=20", code: Buffer.from("hello") });
  });
});
