import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, SERVER_PROCESS_ENV, memoryBreakdown } from "../src/process-memory.js";

describe("the server's process settings", () => {
  const start: string = JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8")).scripts.start;

  it("are what the start script runs the server with", () => {
    const words = start.split(/\s+/);
    for (const [name, value] of Object.entries(SERVER_PROCESS_ENV)) expect(words).toContain(`${name}=${value}`);
    for (const flag of SERVER_NODE_FLAGS) expect(words).toContain(flag);
    // The flags go to node itself, before the script.
    expect(words.indexOf(SERVER_NODE_FLAGS[0])).toBeLessThan(words.indexOf("src/main.ts"));
  });

  it("are accepted by this Node.js (an unknown V8 flag stops node before the server starts)", () => {
    expect(execFileSync(process.execPath, [...SERVER_NODE_FLAGS, "-e", "process.stdout.write('ok')"], { encoding: "utf8" })).toBe("ok");
  });

  it("report memory in MiB", () => {
    const mib = 1024 * 1024;
    expect(memoryBreakdown({ rss: 600.4 * mib, heapTotal: 300 * mib, heapUsed: 250.6 * mib, external: 180 * mib, arrayBuffers: 30 * mib })).toEqual({
      rss: 600,
      heapTotal: 300,
      heapUsed: 251,
      external: 180,
      arrayBuffers: 30,
    });
  });
});
