import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive, listRecords, processStartTime, startDaemon, stopDaemon, type DaemonRecord } from "../../src/procs.js";
import { waitFor } from "../../src/wait.js";

/** The pid-file discipline `down` relies on, with ordinary local processes (no root needed). */
describe("daemon records", () => {
  let dir = "";
  const started: DaemonRecord[] = [];
  const newDir = async () => (dir = await mkdtemp(join(tmpdir(), "lab-real-procs-")));
  afterEach(async () => {
    for (const r of started.splice(0)) if (isAlive(r)) process.kill(-r.pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("records the pid and start time, and stops the daemon with its children by the pid", async () => {
    await newDir();
    const childPidFile = join(dir, "child.pid");
    // A daemon with a per-connection style child in its process group.
    const rec = await startDaemon(dir, { id: "n1.demo", argv: ["sh", "-c", `sleep 60 & echo $! > ${childPidFile}; exec sleep 60`], log: join(dir, "demo.log") });
    started.push(rec);
    expect(rec.startTime).toBe(processStartTime(rec.pid));
    expect((await listRecords(dir)).map((r) => r.id)).toEqual(["n1.demo"]);
    const childPid = Number(await waitFor("the child's pid file", async () => (await readFile(childPidFile, "utf8").catch(() => "")).trim() || null));
    const child = { pid: childPid, startTime: processStartTime(childPid)! };
    expect(await stopDaemon(dir, "n1.demo")).toBe("stopped");
    expect(isAlive(rec)).toBe(false);
    await waitFor("the child to exit with its group", () => !isAlive(child), { timeoutMs: 5000 });
    expect(await listRecords(dir)).toEqual([]);
  });

  it("never signals a process whose pid matches but whose start time does not (a recycled pid)", async () => {
    await newDir();
    const rec = await startDaemon(dir, { id: "n1.other", argv: ["sleep", "60"], log: join(dir, "other.log") });
    started.push(rec);
    await writeFile(join(dir, "n1.other.json"), JSON.stringify({ ...rec, startTime: "1" }));
    expect(await stopDaemon(dir, "n1.other")).toBe("not-running");
    expect(isAlive(rec)).toBe(true);
  });

  it("treats the record of a daemon that died as not running, and forgets it", async () => {
    await newDir();
    const rec = await startDaemon(dir, { id: "n1.crashed", argv: ["sleep", "60"], log: join(dir, "crashed.log") });
    process.kill(rec.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !isAlive(rec));
    expect(await stopDaemon(dir, "n1.crashed")).toBe("not-running");
    expect(await listRecords(dir)).toEqual([]);
  });
});
