import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_COMMAND } from "@nimbus/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { agentInstaller } from "../src/agent-install.js";
import type { HostConfig } from "../src/contract.js";
import { Fleet } from "../src/fleet.js";
import { MemoryKnownHosts } from "../src/memory-stores.js";
import { AgentHost } from "./fixtures/agent-host.js";
import { FakeWorld } from "./fixtures/fake-world.js";
import { InstallHost, type HostEvent } from "./fixtures/install-host.js";
import { buildAgentBundle, bundleVariant, type BuiltBundle } from "./helpers/agent-bundles.js";
import { FAST_TIMING } from "./helpers/fleet-harness.js";
import { sshKeyPair } from "./helpers/keys.js";
import { eventually, hostState } from "./helpers/wait.js";

// The real agent runs on the test host and probes this machine's tools before it answers hello.
const TIMING = { ...FAST_TIMING, requestTimeoutMs: 20_000, handshakeTimeoutMs: 20_000 };
const WAIT_MS = 25_000;
const UPLOAD = { install: "upload" } as const;

const key = sshKeyPair();
const work = mkdtempSync(join(tmpdir(), "nimbus-install-test-"));
let bundle: BuiltBundle;
const hosts: { stop(): Promise<void> }[] = [];
const fleets: Fleet[] = [];

beforeAll(async () => {
  bundle = await buildAgentBundle(join(work, "dist"));
});
afterEach(async () => {
  for (const f of fleets.splice(0)) f.stop();
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function installHost(opts: { nodeVersion?: string | null; sftp?: boolean } = {}) {
  const host = await InstallHost.start({ name: "kvm1", clientPublicKey: key.public, ...opts });
  hosts.push(host);
  return host;
}

function fleetFor(config: HostConfig, bundleDir = bundle.dir) {
  const fleet = new Fleet({
    hosts: [config],
    privateKey: key.private,
    knownHosts: new MemoryKnownHosts(),
    timing: TIMING,
    ensureAgent: agentInstaller({ bundleDir, commandTimeoutMs: 10_000 }),
  });
  fleets.push(fleet);
  void fleet.start();
  return fleet;
}

const agentFile = (version: string) => `.nimbus/agent/nimbus-agent-${version}.cjs`;
const sftpOps = (events: HostEvent[]) => events.filter((e) => e.kind === "sftp").map((e) => (e as { op: string }).op);
const commands = (events: HostEvent[]) => events.flatMap((e) => (e.kind === "exec" ? [e.command] : []));

describe("agent install over SFTP", () => {
  it("uploads the agent when the host has none, then runs it", async () => {
    const host = await installHost();
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const online = await hostState(fleet, "kvm1", "online", WAIT_MS);
    expect(online.connection.agentVersion).toBe(bundle.version);
    const file = agentFile(bundle.version);
    expect(host.sha256(file)).toBe(bundle.sha256);
    expect(host.sha256(`${file}.part`)).toBeNull();
    expect(statSync(host.path(".nimbus/agent")).mode & 0o777).toBe(0o700);
    expect(commands(host.events)).toEqual([
      "node --version",
      `sha256sum -- '${file}'`,
      `sha256sum -- '${file}.part'`,
      `node '${file}' serve --stdio`,
    ]);
    expect(sftpOps(host.events)).toContain("rename");
  });

  it("does not upload when the host already has this version", async () => {
    const host = await installHost();
    host.seed(agentFile(bundle.version), bundle.code);
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    expect((await hostState(fleet, "kvm1", "online", WAIT_MS)).connection.agentVersion).toBe(bundle.version);
    expect(sftpOps(host.events)).toEqual([]);
    expect(commands(host.events)).toEqual(["node --version", `sha256sum -- '${agentFile(bundle.version)}'`, `node '${agentFile(bundle.version)}' serve --stdio`]);
  });

  it("uploads again when the host runs another version, keeping the old one", async () => {
    const host = await installHost();
    const first = fleetFor(host.config({ agent: UPLOAD }));
    await hostState(first, "kvm1", "online", WAIT_MS);
    first.stop();

    const next = bundleVariant(bundle, join(work, "next"), "0123456789abcdef");
    const second = fleetFor(host.config({ agent: UPLOAD }), next.dir);
    expect((await hostState(second, "kvm1", "online", WAIT_MS)).connection.agentVersion).toBe(next.version);
    expect(host.sha256(agentFile(next.version))).toBe(next.sha256);
    expect(host.sha256(agentFile(bundle.version))).toBe(bundle.sha256);
    expect(commands(host.events).at(-1)).toBe(`node '${agentFile(next.version)}' serve --stdio`);
  });

  it("replaces a damaged copy of the same version", async () => {
    const host = await installHost();
    host.seed(agentFile(bundle.version), bundle.code.subarray(0, 1000));
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    await hostState(fleet, "kvm1", "online", WAIT_MS);
    expect(host.sha256(agentFile(bundle.version))).toBe(bundle.sha256);
  });

  it("a host without Node.js is agent-missing, saying what to install", async () => {
    const host = await installHost({ nodeVersion: null });
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const row = await hostState(fleet, "kvm1", "agent-missing", WAIT_MS);
    expect(row.connection.message).toBe(
      "kvm1: Node.js 20 or newer is needed to run the Nimbus agent (found: none). Install it, e.g. `apt-get install nodejs` on Debian 13 or " +
        "Ubuntu 24.04 (older releases ship an older one: use the NodeSource packages); Nimbus then installs the agent by itself on its next attempt.",
    );
    expect(commands(host.events)).toEqual(["node --version"]);
    expect(sftpOps(host.events)).toEqual([]);
  });

  it("a host with an old Node.js is agent-missing, naming the version found", async () => {
    const host = await installHost({ nodeVersion: "v18.19.0" });
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const row = await hostState(fleet, "kvm1", "agent-missing", WAIT_MS);
    expect(row.connection.message).toMatch(/^kvm1: Node\.js 20 or newer is needed to run the Nimbus agent \(found: v18\.19\.0\)\. Install it, e\.g\. `apt-get install nodejs`/);
    expect(commands(host.events)).toEqual(["node --version"]);
  });

  it("an upload cut off mid-way never runs a half file, and the retry installs it", async () => {
    const host = await installHost();
    host.dropUploadAfterBytes = 100_000;
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const rows: { state: string; message: string | null }[] = [];
    fleet.subscribe((e) => e.type === "host" && rows.push({ state: e.host.connection.state, message: e.host.connection.message }));
    await hostState(fleet, "kvm1", "online", WAIT_MS);

    // A lost link is retried soon (unreachable), not parked as a missing agent.
    expect(rows[0]).toEqual({ state: "unreachable", message: expect.stringMatching(/^kvm1: connection lost during SFTP write \.nimbus\/agent\/nimbus-agent-\w+\.cjs\.part/) });

    const dropped = host.events.find((e) => e.kind === "dropped")!;
    expect(dropped).toBeDefined();
    const firstAttempt = host.events.filter((e) => e.conn === dropped.conn);
    expect(sftpOps(firstAttempt)).not.toContain("rename");
    expect(firstAttempt.filter((e) => e.kind === "run-agent")).toEqual([]);
    // Every agent that ever ran was the whole build.
    const runs = host.eventsOf("run-agent");
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run).toMatchObject({ path: agentFile(bundle.version), sha256: bundle.sha256 });
    expect(host.sha256(agentFile(bundle.version))).toBe(bundle.sha256);
    expect(host.sha256(`${agentFile(bundle.version)}.part`)).toBeNull();
  });

  it("installs when another server creates the agent directory between its look and its mkdir", async () => {
    const host = await installHost();
    host.beforeMkdir = (dir) => mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const rows: string[] = [];
    fleet.subscribe((e) => e.type === "host" && rows.push(e.host.connection.state));
    await hostState(fleet, "kvm1", "online", WAIT_MS);
    expect(rows).not.toContain("agent-missing");
    expect(rows).not.toContain("unreachable");
    expect(sftpOps(host.events)).toContain("mkdir");
    expect(host.sha256(agentFile(bundle.version))).toBe(bundle.sha256);
  });

  it("still refuses a file where the agent directory should be, even when it appears during the mkdir", async () => {
    const host = await installHost();
    host.beforeMkdir = (dir) => writeFileSync(dir, "not a directory");
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const failed = await eventually(() => {
      const c = fleet.host("kvm1")!.connection;
      return c.state !== "connecting" && c.state !== "online" ? c : null;
    }, "the install to fail", WAIT_MS);
    expect(failed.message).toMatch(/^kvm1: could not install the agent: SFTP mkdir \.nimbus failed/);
  });

  it("a server without a built agent says to run pnpm build on the host's row", async () => {
    const host = await installHost();
    const fleet = fleetFor(host.config({ agent: UPLOAD }), join(work, "not-built"));
    const row = await hostState(fleet, "kvm1", "agent-missing", WAIT_MS);
    expect(row.connection.message).toBe(
      `kvm1: could not install the agent: the agent bundle is not built (${join(work, "not-built", "nimbus-agent.json")} is missing): ` +
        "run `pnpm build` (or `pnpm --filter @nimbus/agent build`) on the server",
    );
    expect(host.events).toEqual([]);
  });

  it("a host whose SSH server has no SFTP is agent-missing, saying how to enable it", async () => {
    const host = await installHost({ sftp: false });
    const fleet = fleetFor(host.config({ agent: UPLOAD }));
    const row = await hostState(fleet, "kvm1", "agent-missing", WAIT_MS);
    expect(row.connection.message).toMatch(/^kvm1: could not install the agent: the SSH server offers no SFTP \(.*\); enable it \(OpenSSH: "Subsystem sftp internal-sftp"\) or set agent\.install to "preinstalled"$/);
  });
});

describe("hosts that are not uploaded to", () => {
  it("runs the host's own agent with no install step when no agent setting is given (the embedded lab) or it is preinstalled", async () => {
    const world = new FakeWorld();
    const plain = await AgentHost.start({ name: "lab1", clientPublicKey: key.public, drivers: world.drivers("lab1") });
    const custom = await AgentHost.start({ name: "lab2", clientPublicKey: key.public, drivers: world.drivers("lab2") });
    hosts.push(plain, custom);
    const fleet = new Fleet({
      hosts: [plain.config(), { ...custom.config(), agent: { install: "preinstalled", path: "/opt/nimbus/bin/nimbus-agent" } }],
      privateKey: key.private,
      knownHosts: new MemoryKnownHosts(),
      timing: FAST_TIMING,
      ensureAgent: agentInstaller({ bundleDir: join(work, "not-built") }),
    });
    fleets.push(fleet);
    await fleet.start();
    await eventually(() => fleet.hosts().every((h) => h.connection.state === "online"), "both hosts online");
    expect(plain.commands).toEqual([AGENT_COMMAND]);
    expect(custom.commands).toEqual(["'/opt/nimbus/bin/nimbus-agent' serve --stdio"]);
  });
});
