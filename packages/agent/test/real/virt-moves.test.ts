import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StorageMoveProgress } from "@nimbus/domain";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { toolFailed } from "../../src/real/run.js";
import { Tool } from "../../src/real/tool.js";
import { moveDiskReal } from "../../src/real/virt-disk-move.js";
import { realPreflight } from "../../src/real/virt-preflight.js";
import { sample } from "../fixtures/samples.js";

const cfg = AgentConfig.parse({ virt: { progressIntervalMs: 100 } });

describe("virt.preflight on a real host (libvirt's test driver, /proc from samples)", () => {
  const virsh = new Tool("virsh", { path: "virsh", args: ["-c", "test:///default"], env: {} });
  let proc: string;
  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), "nimbus-proc-"));
    await writeFile(join(proc, "meminfo"), sample("proc-meminfo.txt"));
  });
  afterEach(() => rm(proc, { recursive: true, force: true }));
  const deps = () => ({ host: "kvm-test", virsh, procRoot: proc, bridges: async () => [{ name: "br0", type: "linux" as const, mtu: 1500, ports: [] }] });
  const destination = (over: object = {}) => ({ role: "destination" as const, domain: "new-vm", source: "kvm1", memoryMiB: 2048, memoryHeadroomMiB: 512, nics: [], diskPaths: [], ...over });

  it("as the source: confirms the running domain (a driver without job info counts as idle)", async () => {
    expect(await realPreflight(deps(), { role: "source", domain: "test", destination: "kvm2" })).toEqual([
      { id: "agent-source", label: "kvm-test (source, now)", result: "pass", reason: "kvm-test confirms test is running with no job on it" },
    ]);
  });

  it("as the source: a domain that is not defined fails the check", async () => {
    expect((await realPreflight(deps(), { role: "source", domain: "gone", destination: "kvm2" }))[0]).toMatchObject({ result: "fail", reason: "gone is no longer defined on kvm-test" });
  });

  it("as the destination: free memory from /proc/meminfo (MemAvailable), bridges from the net driver", async () => {
    const checks = await realPreflight(deps(), destination({ nics: [{ mac: "m1", bridge: "br0", bridgeType: "linux", vlan: null }, { mac: "m2", bridge: "br9", bridgeType: "linux", vlan: null }] }));
    expect(checks.find((c) => c.id === "agent-memory")).toMatchObject({ result: "pass", reason: "needs 2048 MiB; kvm-test has 21979 MiB free after 512 MiB headroom" });
    expect(checks.find((c) => c.id === "agent-net-m2")).toMatchObject({ result: "fail", reason: "bridge br9 does not exist on kvm-test" });
  });

  it("as the destination: a disk file it cannot see means storage migration needed; one that exists passes", async () => {
    const disk = join(proc, "seen.qcow2");
    await writeFile(disk, "");
    const checks = await realPreflight(deps(), destination({ diskPaths: [disk, "/instance-not-mounted/x.qcow2"] }));
    expect(checks.find((c) => c.id === "agent-storage")?.reason).toBe("storage migration needed: /instance-not-mounted/x.qcow2 not visible on kvm-test");
  });

  it("as the destination: a running domain of the same name fails", async () => {
    expect((await realPreflight(deps(), destination({ domain: "test" }))).find((c) => c.id === "agent-domain")?.result).toBe("fail");
  });
});

/**
 * Disk moves on a real host, with virsh and qemu-img replaced by scripted fakes that act on real
 * files: the order of steps, what is deleted when, and what the definition ends up saying.
 */
describe("disk move orchestration", () => {
  let dir: string;
  let oldPath: string;
  let newPath: string;
  let defined: string | null;
  let calls: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "nimbus-move-"));
    oldPath = join(dir, "pa-vm2.qcow2");
    newPath = join(dir, "ds2-pa-vm2.qcow2");
    await writeFile(oldPath, "disk bytes");
    defined = null;
    calls = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const domainXml = (path: string) => sample("virsh-qemu-dumpxml-inactive-tcg.xml").replace("/srv/nfs/instance/pa-vm2.qcow2", path);
  const fail = (tool: string, args: string[], stderr: string) => toolFailed({ tool, args, exitCode: 1, stderr });

  function fakes(opts: { state: "running" | "shut off"; compare?: "same" | "differ"; convert?: "copy" | "hang"; pivotUpdatesConfig?: boolean }) {
    let pivoted = false;
    const virsh = {
      run: async (args: string[], o: { stdin?: string } = {}) => {
        calls.push(`virsh ${args[0]}${args.includes("--inactive") ? " --inactive" : ""}`);
        switch (args[0]) {
          case "list":
            return "11111111-2222-3333-4444-555555555555 pa-vm2\n";
          case "domstate":
            return `${opts.state} (booted)\n`;
          case "dumpxml":
            if (args.includes("--inactive")) return defined ?? domainXml(pivoted && opts.pivotUpdatesConfig ? newPath : oldPath);
            return domainXml(pivoted ? newPath : oldPath);
          case "define":
            // virsh reads the XML from the private file the agent wrote (never stdin: a socket under Node).
            expect(o.stdin).toBeUndefined();
            defined = await readFile(args.at(-1)!, "utf8");
            return "Domain 'pa-vm2' defined\n";
          case "blockcopy":
            await copyFile(oldPath, newPath);
            await new Promise((r) => setTimeout(r, 250));
            pivoted = true;
            return "\nNow in mirroring phase\nSuccessfully pivoted\n";
          case "blockjob":
            return " type=Copy\n bandwidth=0\n cur=5\n end=10\n";
          default:
            throw fail("virsh", args, `unexpected ${args[0]}`);
        }
      },
    } as unknown as Tool;
    const qemuImg = {
      run: async (args: string[], o: { signal?: AbortSignal } = {}) => {
        calls.push(`qemu-img ${args[0]}`);
        if (args[0] === "info") return JSON.stringify({ format: "qcow2", "virtual-size": 100, "actual-size": 10 });
        if (args[0] === "convert") {
          await writeFile(newPath, "disk by");
          if (opts.convert === "hang")
            await new Promise((_r, reject) => o.signal!.addEventListener("abort", () => reject(fail("qemu-img", args, "was cancelled")), { once: true }));
          await writeFile(newPath, "disk bytes");
          return "";
        }
        if (args[0] === "compare") {
          if (opts.compare === "differ") throw fail("qemu-img", args, "Content mismatch at offset 0!");
          return "Images are identical.\n";
        }
        throw fail("qemu-img", args, "unexpected");
      },
    } as unknown as Tool;
    return { host: "kvm1", virsh, qemuImg, cfg: cfg.virt, log: silentLog };
  }
  const ctx = () => {
    const abort = new AbortController();
    const reports: StorageMoveProgress[] = [];
    return { reports, signal: abort.signal, report: (p: StorageMoveProgress) => reports.push(p), cancel: () => abort.abort() };
  };
  const params = () => ({ jobId: "j", domain: "pa-vm2", disk: "vda", destinationPath: newPath, bandwidthMiBps: 50 });
  const exists = (p: string) => stat(p).then(() => true, () => false);

  it("offline: copies, compares, points the definition at the new file, then deletes the old one", async () => {
    const c = ctx();
    await moveDiskReal(fakes({ state: "shut off" }), params(), c);
    expect(calls).toEqual(["virsh list", "virsh domstate", "virsh dumpxml --inactive", "qemu-img info", "qemu-img convert", "qemu-img compare", "virsh dumpxml --inactive", "virsh define", "virsh dumpxml --inactive"]);
    expect(defined).toContain(`<source file='${newPath}'/>`);
    expect(await readFile(newPath, "utf8")).toBe("disk bytes");
    expect(await exists(oldPath)).toBe(false);
    expect(c.reports.map((r) => r.phase)).toEqual(expect.arrayContaining(["preparing", "verifying", "switchover", "cleanup"]));
    expect(c.reports.every((r) => r.mode === "offline")).toBe(true);
  });

  it("offline: a copy that does not compare equal is deleted; the VM keeps its disk and definition", async () => {
    await expect(moveDiskReal(fakes({ state: "shut off", compare: "differ" }), params(), ctx())).rejects.toThrow(
      `copy of pa-vm2 vda to ${newPath} failed: qemu-img compare -f qcow2 exited with 1: Content mismatch at offset 0!; pa-vm2 still uses ${oldPath}`,
    );
    expect(await exists(newPath)).toBe(false);
    expect(await exists(oldPath)).toBe(true);
    expect(defined).toBeNull();
  });

  it("offline: cancelled while copying, the partial file goes and the old one stays", async () => {
    const c = ctx();
    const run = moveDiskReal(fakes({ state: "shut off", convert: "hang" }), params(), c);
    await new Promise((r) => setTimeout(r, 50));
    c.cancel();
    await expect(run).rejects.toThrow(`copy of pa-vm2 vda to ${newPath} was cancelled; pa-vm2 still uses ${oldPath}`);
    expect(await exists(newPath)).toBe(false);
    expect(await exists(oldPath)).toBe(true);
  });

  it("live: block copy with progress, pivot, the persistent definition fixed when libvirt left it, old copy deleted", async () => {
    const c = ctx();
    await moveDiskReal(fakes({ state: "running" }), params(), c);
    expect(calls.filter((x) => !x.startsWith("virsh blockjob"))).toEqual([
      "virsh list", "virsh domstate", "virsh dumpxml", "qemu-img info", "virsh blockcopy", "virsh dumpxml --inactive", "virsh define", "virsh dumpxml", "virsh dumpxml --inactive",
    ]);
    expect(c.reports.some((r) => r.phase === "copying" && r.bytesCopied === 5 && r.bytesTotal === 10 && r.percent === 50)).toBe(true);
    expect(await exists(oldPath)).toBe(false);
  });

  it("live: leaves the definition alone when the pivot already updated it", async () => {
    await moveDiskReal(fakes({ state: "running", pivotUpdatesConfig: true }), params(), ctx());
    expect(calls).not.toContain("virsh define");
  });

  it("refuses a destination file that already exists, touching nothing", async () => {
    await writeFile(newPath, "someone else's");
    await expect(moveDiskReal(fakes({ state: "running" }), params(), ctx())).rejects.toThrow(`${newPath} already exists on kvm1`);
    expect(await readFile(newPath, "utf8")).toBe("someone else's");
    expect(await exists(oldPath)).toBe(true);
  });
});
