/**
 * How the server's Node.js process is started: `pnpm --filter @nimbus/server start` (package.json,
 * which `npm start` runs) and the benchmark (bench/fleet-bench.ts) use these; a test keeps the
 * start script in step. Measured at 2,000 hosts x 10 VMs on one lab, one server after the other
 * (README, "Server memory"): RSS 718-759 MB steady and 789-816 MB after the page queries without
 * them, 570-595 / 566-609 MB with them.
 *
 * - `--heap-growing-percent=30`: V8 lets the heap grow to a multiple of what survived the last
 *   full collection before it collects again, a multiple it guesses; here ~1.7-1.9 (~235 MB live,
 *   the next full collection at 400-450 MB, ~70 s apart): most of the RSS, and of its swing between
 *   runs and after the page queries, was garbage waiting. Fixed at 1.3 the heap stays within ~70 MB
 *   of what is live, for a full collection every 15-30 s (each marks the same live heap and sweeps
 *   less, so their main-thread pauses per minute are about as long as before).
 * - glibc's malloc keeps what was freed (V8's compilers, the WebAssembly of PGlite and ssh2) in one
 *   arena per thread and rarely gives it back: 2 arenas and a 1 MB trim threshold return it (and
 *   fix the mmap threshold at 128 KB, so large buffers are unmapped when freed). A server over the
 *   small default lab: 486 -> 411 MB RSS with the same heap.
 */
export const SERVER_NODE_FLAGS = ["--heap-growing-percent=30"] as const;

export const SERVER_PROCESS_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "1048576" } as const;

/** Where the process's memory is, in MiB (/healthz; the benchmark prints it): RSS is the heap V8 reserved, the buffers and WebAssembly memories outside it, and what malloc holds for native code. */
export function memoryBreakdown(usage: NodeJS.MemoryUsage = process.memoryUsage()) {
  const mib = (bytes: number) => Math.round(bytes / 1048576);
  return { rss: mib(usage.rss), heapTotal: mib(usage.heapTotal), heapUsed: mib(usage.heapUsed), external: mib(usage.external), arrayBuffers: mib(usage.arrayBuffers) };
}
