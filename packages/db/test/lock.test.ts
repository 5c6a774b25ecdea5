import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir, lockPathFor, openDatabase, type LockOwner } from "../src/index.js";
import { processStartTime } from "../src/lock.js";
import { freshPgliteDir } from "../src/testing.js";

// The lock guards the embedded PGlite directory, so these run on PGlite whatever DATABASE_URL says.
const cleanups: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const remove of cleanups.splice(0)) await remove();
});
const newDataDir = () => {
  const { dataDir, remove } = freshPgliteDir();
  cleanups.push(remove);
  return dataDir;
};
const writeLock = (dataDir: string, owner: Partial<LockOwner>) =>
  fs.writeFileSync(
    lockPathFor(dataDir),
    JSON.stringify({ host: os.hostname(), since: "2020-01-01T00:00:00.000Z", token: "someone-else", startTime: null, ...owner }),
  );

describe("data directory lock", () => {
  it("refuses a second open of the same directory in the same process, naming the holder", async () => {
    const dataDir = newDataDir();
    const database = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir })).rejects.toThrow(`in use by process ${process.pid}`);
      expect(fs.existsSync(lockPathFor(dataDir))).toBe(true);
    } finally {
      await database.close();
    }
    expect(fs.existsSync(lockPathFor(dataDir))).toBe(false);
  });

  it("refuses while another process holds the directory, and takes over once that process died", async () => {
    const dataDir = newDataDir();
    const child = await holdInChild(dataDir);
    await expect(openDatabase({ dataDir })).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining(`in use by process ${child.pid}`),
    });

    // A crash (SIGKILL) leaves the lock file behind; its pid is gone, so the lock is stale.
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(fs.existsSync(lockPathFor(dataDir))).toBe(true);
    const database = await openDatabase({ dataDir });
    await database.close();
  });

  it("refuses a lock held by a live process", () => {
    const dataDir = newDataDir();
    writeLock(dataDir, { pid: process.ppid, startTime: processStartTime(process.ppid) });
    expect(() => lockDataDir(dataDir)).toThrow(`in use by process ${process.ppid}`);
  });

  it("takes over a lock whose pid now belongs to a different process (pid reuse)", () => {
    const dataDir = newDataDir();
    writeLock(dataDir, { pid: process.ppid, startTime: "1" });
    const lock = lockDataDir(dataDir);
    expect(JSON.parse(fs.readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("refuses an unreadable lock file instead of guessing", () => {
    const dataDir = newDataDir();
    fs.writeFileSync(lockPathFor(dataDir), "garbage");
    expect(() => lockDataDir(dataDir)).toThrow(/cannot be read/);
  });

  it("refuses a lock held from another host, which it cannot probe", () => {
    const dataDir = newDataDir();
    writeLock(dataDir, { pid: 1, host: "elsewhere.example" });
    expect(() => lockDataDir(dataDir)).toThrow("in use by process 1 on host elsewhere.example");
  });
});

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const holder = fileURLToPath(new URL("./fixtures/hold-database.ts", import.meta.url));

/** Starts a process that opens `dataDir` and resolves once it reports ready. */
function holdInChild(dataDir: string): Promise<ChildProcess & { pid: number }> {
  // node itself (not the tsx wrapper, which forks): the pid in the lock must be this child's.
  const child = spawn(process.execPath, ["--import", "tsx", holder, dataDir], { cwd: packageDir, stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("ready")) resolve(child as ChildProcess & { pid: number });
    });
    child.once("exit", (code) => reject(new Error(`holder exited early (${code})`)));
  });
}
