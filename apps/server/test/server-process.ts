import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { freshPgliteDir } from "@nimbus/db/testing";

export interface ServerProcess {
  base: string;
  /** Everything the process printed on stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

/** The real server process (API only, embedded lab) with extra environment; resolves once every lab host is online. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  // Its database (<dir>/db) starts as a copy of the globalSetup's migrated cluster (no initdb + migrations).
  const dir = dirname(freshPgliteDir().dataDir);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: join(import.meta.dirname, ".."),
    env: { ...process.env, NIMBUS_NO_WEB: "1", NIMBUS_PORT: "0", NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_LOG_LEVEL: "warn", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let out = "";
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        const m = out.match(/Nimbus is running: (http:\/\/\S+)/);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    for (;;) {
      const h = await (await fetch(`${base}/healthz`)).json();
      if (h.online === h.hosts && h.hosts > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { base, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
