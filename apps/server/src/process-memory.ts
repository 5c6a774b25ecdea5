/**
 * How the server's Node.js process is started: `pnpm --filter @nimbus/server start` (package.json,
 * which `npm start` runs) and the benchmark (bench/fleet-bench.ts) use these; a test keeps the
 * start script in step. Measured at 2,000 hosts x 10 VMs on one lab, one server after the other
 * (docs/benchmarks.md, "Server memory").
 *
 * - V8's own heap growth is kept: `--heap-growing-percent=30` (a full collection at 1.3x the live
 *   heap) took ~20 MB off steady RSS but cost ~1.3 s more CPU while 2,000 hosts connect (connect
 *   5.0-5.7 s without it, 6.0-6.9 s with it, back to back on one lab), against the <= 6 s goal.
 * - glibc's malloc keeps what was freed (V8's compilers, the WebAssembly of PGlite and ssh2) in one
 *   arena per thread and rarely gives it back: 2 arenas and a 1 MB trim threshold return it (and
 *   fix the mmap threshold at 128 KB, so large buffers are unmapped when freed). A server over the
 *   small default lab: 486 -> 411 MB RSS with the same heap.
 */
export const SERVER_PROCESS_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "1048576" } as const;

/** Where the process's memory is, in MiB (/healthz; the benchmark prints it): RSS is the heap V8 reserved, the buffers and WebAssembly memories outside it, and what malloc holds for native code. */
export function memoryBreakdown(usage: NodeJS.MemoryUsage = process.memoryUsage()) {
  const mib = (bytes: number) => Math.round(bytes / 1048576);
  return { rss: mib(usage.rss), heapTotal: mib(usage.heapTotal), heapUsed: mib(usage.heapUsed), external: mib(usage.external), arrayBuffers: mib(usage.arrayBuffers) };
}
