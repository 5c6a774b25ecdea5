import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createConnection, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { HelloResult, HostInventory, NetSection, PROTOCOL_VERSION } from "@nimbus/domain";
import { LabControlClient } from "../src/control/client.js";
import { ensureClientKey } from "../src/fleet-file.js";
import { fingerprintOf } from "../src/ssh/host-keys.js";
import { startLab, type Lab } from "../src/lab.js";
import { AgentChannel, connect, execToEnd } from "./ssh-client.js";
import { waitFor } from "./helpers.js";

let dataDir: string;
let lab: Lab;
let privateKey: Buffer;
const hostOf = (name: string) => lab.hosts.find((h) => h.name === name)!;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "nimbus-lab-test-"));
  const key = ensureClientKey(dataDir);
  privateKey = readFileSync(key.privateKeyPath);
  lab = await startLab({ dataDir, clientPublicKeys: [key.publicKey], speed: 10 });
});

afterAll(async () => {
  await lab?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a lab host over SSH", () => {
  it("answers hello and inventory.snapshot with valid data, then pushes a section after a fault", async () => {
    const { client } = await connect(hostOf("kvm1"), privateKey);
    try {
      const agent = await AgentChannel.open(client);
      const hello = HelloResult.parse(await agent.request("hello", { protocol: PROTOCOL_VERSION, server: "test" }));
      expect(hello).toMatchObject({ hostname: "kvm1", capabilities: ["virt", "net", "storage"] });
      const inventory = HostInventory.parse(await agent.request("inventory.snapshot"));
      expect(inventory.virt?.domains.map((d) => d.name)).toContain("acme-web1");
      expect(inventory.swarm).toBeNull();

      lab.faults.setMtu("kvm1", "eth0", 1500);
      await waitFor(() => agent.notifications.some((n) => n.method === "inventory.section" && n.params.section === "net"), "a pushed net section");
      const pushed = NetSection.parse(agent.notifications.find((n) => n.params.section === "net")!.params.data);
      expect(pushed.interfaces.find((i) => i.name === "eth0")?.mtu).toBe(1500);
    } finally {
      lab.faults.restoreMtu("kvm1", "eth0");
      client.end();
    }
  });

  it("sends the SSH packets of one turn in one write (the ECDH reply and NEWKEYS)", async () => {
    const { port } = hostOf("nfs2");
    const proto = Socket.prototype as unknown as { _writev: (chunks: unknown[], cb: unknown) => void };
    const original = proto._writev;
    const batched: number[] = [];
    const spy = vi.spyOn(proto, "_writev").mockImplementation(function (this: Socket, chunks, cb) {
      if (this.localPort === port) batched.push(chunks.length);
      return original.call(this, chunks, cb);
    });
    try {
      const { client } = await connect(hostOf("nfs2"), privateKey);
      client.end();
    } finally {
      spy.mockRestore();
    }
    expect(Math.max(0, ...batched)).toBeGreaterThanOrEqual(2);
  });

  it("runs a live migration as a job, with job.update notifications until it succeeds", async () => {
    const { client } = await connect(hostOf("kvm2"), privateKey);
    try {
      const agent = await AgentChannel.open(client);
      await agent.request("inventory.snapshot");
      const params = { jobId: "op-1", domain: "globex-app2", destination: { host: "kvm1", uri: "qemu+ssh://kvm1/system" }, options: {} };
      expect(await agent.request("virt.migrate", params)).toEqual({ jobId: "op-1" });
      const final = () => agent.notifications.find((n) => n.method === "job.update" && n.params.job.state !== "running");
      await waitFor(() => final() !== undefined, "the job to end", 15_000);
      expect(final()!.params.job).toMatchObject({ state: "succeeded", progress: { phase: "done", percent: 100 } });
      expect(lab.world.hypervisor("kvm1").domains.has("globex-app2")).toBe(true);
      expect(lab.world.hypervisor("kvm2").domains.has("globex-app2")).toBe(false);
    } finally {
      client.end();
    }
  });

  it("refuses a client key it was not given", async () => {
    const stranger = ssh2.utils.generateKeyPairSync("ed25519").private;
    await expect(connect(hostOf("kvm1"), stranger)).rejects.toThrow(/All configured authentication methods failed/);
  });

  it("refuses password authentication", async () => {
    const h = hostOf("kvm1");
    const attempt = new Promise((resolve, reject) => {
      const c = new ssh2.Client();
      c.on("ready", () => resolve(c.end()));
      c.on("error", reject);
      c.connect({ host: h.address, port: h.port, username: h.user, password: "nimbus", readyTimeout: 10_000 });
    });
    await expect(attempt).rejects.toThrow(/All configured authentication methods failed/);
  });

  it("ends the agent session when the client closes the channel: the host's watchers go away", async () => {
    const { client } = await connect(hostOf("nfs1"), privateKey);
    try {
      const agent = await AgentChannel.open(client);
      await agent.request("inventory.snapshot");
      expect(lab.world.events.listenerCount("nfs1")).toBeGreaterThan(1);
      const exit = new Promise((resolve) => agent.channel.on("exit", resolve));
      agent.channel.end();
      expect(await exit).toBe(0);
      // Only the endpoint's own reachability watcher stays.
      await waitFor(() => lab.world.events.listenerCount("nfs1") === 1, "the session's watchers to go");
    } finally {
      client.end();
    }
  });

  it("runs nothing but the agent: other commands exit 127 with a message", async () => {
    const { client } = await connect(hostOf("nfs1"), privateKey);
    try {
      const { code, stderr } = await execToEnd(client, "uname -a");
      expect(code).toBe(127);
      expect(stderr).toMatch(/uname: not found \(lab host nfs1 only runs "nimbus-agent serve --stdio"\)/);
    } finally {
      client.end();
    }
  });

  it("survives a client vanishing mid-request and keeps serving", async () => {
    const { client } = await connect(hostOf("manager"), privateKey);
    const agent = await AgentChannel.open(client);
    void agent.request("inventory.snapshot").catch(() => {});
    client.destroy();
    const again = await connect(hostOf("manager"), privateKey);
    try {
      const inv = HostInventory.parse(await (await AgentChannel.open(again.client)).request("inventory.snapshot"));
      expect(inv.swarm?.role).toBe("manager");
    } finally {
      again.client.end();
    }
  });
});

describe("faults seen over SSH", () => {
  it("stopHost closes the connection and refuses new ones; startHost lets them in again", async () => {
    const { client } = await connect(hostOf("nfs2"), privateKey);
    const closed = new Promise((resolve) => client.on("end", () => resolve(undefined)));
    lab.faults.stopHost("nfs2");
    await closed;
    await expect(tcpConnect(hostOf("nfs2"))).rejects.toThrow(/ECONNREFUSED/);
    lab.faults.startHost("nfs2");
    await waitForConnectable("nfs2");
  });

  it("cutLink drops connections and leaves new ones unanswered until restoreLink", async () => {
    const { client } = await connect(hostOf("worker1"), privateKey);
    const closed = new Promise((resolve) => client.on("end", () => resolve(undefined)));
    lab.faults.cutLink("worker1");
    await closed;
    await expect(connect(hostOf("worker1"), privateKey, { readyTimeout: 400 })).rejects.toThrow(/Timed out while waiting for handshake/);
    lab.faults.restoreLink("worker1");
    await waitForConnectable("worker1");
  });

  it("changeHostKey makes the host offer another key; restoreHostKey brings the old one back", async () => {
    const original = (await connectAndClose("kvm2")).toString("base64");
    expect(fingerprintOf(Buffer.from(`ssh-ed25519 ${original}`))).toBe(lab.hostKeyFingerprint("kvm2"));
    await lab.faults.changeHostKey("kvm2");
    const changed = (await connectAndClose("kvm2")).toString("base64");
    expect(changed).not.toBe(original);
    await lab.faults.restoreHostKey("kvm2");
    expect((await connectAndClose("kvm2")).toString("base64")).toBe(original);
  });

  it("takes faults over the HTTP control endpoint, with the bearer token only", async () => {
    const anonymous = await fetch(`${lab.controlUrl}/status`);
    expect(anonymous.status).toBe(401);
    const control = LabControlClient.fromDataDir(dataDir);
    await control.fault("break-tunnel", ["kvm1", "5003"]);
    expect(lab.world.hypervisor("kvm1").brokenVnis.has(5003)).toBe(true);
    await control.fault("repair-tunnel", ["kvm1", 5003]);
    expect(lab.world.hypervisor("kvm1").brokenVnis.size).toBe(0);
    await expect(control.fault("melt-host", ["kvm1"])).rejects.toThrow(/unknown fault "melt-host"/);
    await expect(control.fault("constructor", ["kvm1"])).rejects.toThrow(/unknown fault "constructor"/);
    await expect(control.fault("stop-host", [])).rejects.toThrow("usage: fault stop-host HOST");
    await expect(control.fault("stop-host", ["kvm7"])).rejects.toThrow(/kvm7 is not a host of this lab/);
    const status = (await control.status()) as { hosts: { name: string; reachable: boolean }[] };
    expect(status.hosts.map((h) => h.name)).toEqual(lab.hosts.map((h) => h.name));
    expect(statSync(lab.tokenPath).mode & 0o077).toBe(0);
  });
});

describe("restarting a lab on the same data dir", () => {
  it("keeps host keys and ports, and refuses a second lab on the same dir", async () => {
    const fingerprints = lab.hosts.map((h) => lab.hostKeyFingerprint(h.name));
    const ports = lab.hosts.map((h) => h.port);
    const key = ensureClientKey(dataDir);
    await expect(startLab({ dataDir, clientPublicKeys: [key.publicKey] })).rejects.toThrow(/already runs a lab in/);
    await lab.stop();
    await expect(tcpConnect(hostOf("kvm1"))).rejects.toThrow(/ECONNREFUSED/);
    await expect(fetch(`${lab.controlUrl}/status`)).rejects.toThrow();
    lab = await startLab({ dataDir, clientPublicKeys: [key.publicKey], speed: 10 });
    expect(lab.hosts.map((h) => lab.hostKeyFingerprint(h.name))).toEqual(fingerprints);
    expect(lab.hosts.map((h) => h.port)).toEqual(ports);
    await connectAndClose("kvm1");
  });
});

async function connectAndClose(name: string): Promise<Buffer> {
  const { client, hostKey } = await connect(hostOf(name), privateKey);
  client.end();
  return hostKey;
}

function tcpConnect(h: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: h.address, port: h.port });
    s.once("connect", () => {
      s.destroy();
      resolve();
    });
    s.once("error", reject);
  });
}

async function waitForConnectable(name: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      await connectAndClose(name);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
