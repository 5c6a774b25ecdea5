import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NodeFacts, StorageSection } from "@nimbus/domain";
import { AgentConfig } from "../../src/real/config.js";
import { meaningfulChange } from "../../src/node-change.js";
import { RealNodeDriver } from "../../src/real/node.js";
import { RealStorageDriver } from "../../src/real/storage.js";
import { Tool } from "../../src/real/tool.js";

const cfg = AgentConfig.parse({});
const tool = (path: string) => new Tool(path, { path, args: [], env: {} });

describe("RealNodeDriver", () => {
  it("reads this host from /proc", async () => {
    const facts = NodeFacts.parse(await new RealNodeDriver(cfg.node, "n1").snapshot());
    expect(facts).toMatchObject({ hostname: "n1" });
    expect(facts.cpuCount).toBeGreaterThan(0);
    expect(facts.memoryUsedMiB).toBeLessThanOrEqual(facts.memoryTotalMiB);
    expect(facts.diskUsedBytes).toBeLessThanOrEqual(facts.diskTotalBytes);
  });
  it("treats small changes as noise and larger ones as news", async () => {
    const a = await new RealNodeDriver(cfg.node, "n1").snapshot();
    expect(meaningfulChange(a, { ...a, uptimeSeconds: a.uptimeSeconds + 5, cpuUsagePct: Math.min(100, a.cpuUsagePct + 1) })).toBe(false);
    expect(meaningfulChange(a, { ...a, cpuUsagePct: a.cpuUsagePct > 50 ? 0 : 100 })).toBe(true);
    expect(meaningfulChange(a, { ...a, memoryUsedMiB: a.memoryUsedMiB + Math.ceil(a.memoryTotalMiB * 0.02) })).toBe(true);
  });
});

describe("RealStorageDriver", () => {
  it("reports a configured NFS server that is not running, its datastore and the keepalived state file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-agent-nfs-"));
    const state = join(dir, "keepalived.state");
    writeFileSync(state, "INSTANCE VI_1 BACKUP 100\n");
    try {
      const storage = AgentConfig.parse({ storage: { exports: [{ path: "/instance", localPath: dir }, { path: "/gone", localPath: join(dir, "missing") }], vip: "127.0.0.77", keepalivedStateFile: state } }).storage;
      const driver = new RealStorageDriver({ showmount: tool("showmount"), rpcinfo: tool("rpcinfo"), df: tool("df"), ip: tool("ip") }, storage, "/proc", true);
      const section = StorageSection.parse(await driver.snapshot());
      expect(section.nfs).toMatchObject({ serverRunning: false, exports: [], vip: { address: "127.0.0.77", heldHere: false }, keepalivedState: "backup" });
      expect(section.nfs!.datastores.map((d) => d.path)).toEqual(["/instance"]);
      expect(section.nfs!.datastores[0]!.totalBytes).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("reports each export's image catalog, leaving out entries that do not parse or name another datastore", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-agent-images-"));
    const entry = {
      name: "debian-12", os: "debian12", format: "qcow2", virtualSizeBytes: 2 * 1024 ** 3, checksum: { algorithm: "sha512", value: "a".repeat(128) },
      source: { kind: "built", recipe: "debian-12" }, datastore: "/instance", file: "debian-12.qcow2", createdAt: "2026-12-07T00:00:00.000Z",
    };
    mkdirSync(join(dir, ".nimbus-images"));
    writeFileSync(join(dir, ".nimbus-images", "catalog.json"), JSON.stringify([entry, { ...entry, name: "-rf" }, { ...entry, name: "other", datastore: "/elsewhere" }]));
    try {
      const storage = AgentConfig.parse({ storage: { exports: [{ path: "/instance", localPath: dir }] } }).storage;
      const driver = new RealStorageDriver({ showmount: tool("showmount"), rpcinfo: tool("rpcinfo"), df: tool("df"), ip: tool("ip") }, storage, "/proc", true);
      const section = StorageSection.parse(await driver.snapshot());
      expect(section.nfs!.images).toEqual([entry]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("reports only mounts on a host that serves no NFS", async () => {
    const driver = new RealStorageDriver({ showmount: tool("showmount"), rpcinfo: tool("rpcinfo"), df: tool("df"), ip: tool("ip") }, cfg.storage, "/proc", false);
    expect(await driver.snapshot()).toEqual({ nfs: null, mounts: [] });
  });
});
