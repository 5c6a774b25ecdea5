import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_PROCESS_ENV, memoryBreakdown } from "../src/process-memory.js";

describe("the server's process settings", () => {
  const start: string = JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8")).scripts.start;

  it("are what the start script runs the server with", () => {
    const words = start.split(/\s+/);
    for (const [name, value] of Object.entries(SERVER_PROCESS_ENV)) expect(words).toContain(`${name}=${value}`);
    // In the environment of node itself, before it starts (glibc reads them once).
    expect(words.indexOf(`MALLOC_ARENA_MAX=${SERVER_PROCESS_ENV.MALLOC_ARENA_MAX}`)).toBeLessThan(words.indexOf("node"));
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
