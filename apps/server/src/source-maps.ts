import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * Runs `load` with Node's source-map support off, then puts it back as it was (also on a throw).
 *
 * tsx turns source maps on for the whole process (our TypeScript's stack traces), and while they
 * are on Node parses and keeps the map of every module it loads that names one. Next.js's compiled
 * server names its maps (with its sources inside): in a heap snapshot at 2,000 x 10, 491 modules
 * of Next and other packages held their maps; loading Next without them, the heap after a full
 * collection with a page served is 79 MB instead of 90 MB (and the heap's headroom shrinks with
 * it). They map Next's internals only; our own modules are loaded before (serve.ts imports app.ts
 * statically) and keep theirs, and a stack trace maps them as before once support is back on.
 */
export async function withoutSourceMaps<T>(load: () => Promise<T>): Promise<T> {
  const was = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    return await load();
  } finally {
    process.setSourceMapsEnabled(was);
  }
}

/**
 * Next's page and route runtimes (the biggest of its modules and maps), loaded by Next on the first
 * request for a page or a route: loaded here instead, inside `withoutSourceMaps`, through Next's own
 * module that picks the variant (production or development, experimental React). Later loads are
 * the same cached modules. A Next without these modules loads what it loads, as before.
 */
export const NEXT_RUNTIMES = ["next/dist/server/route-modules/app-page/module.compiled", "next/dist/server/route-modules/app-route/module.compiled"];

export function preloadNextRuntimes(webDir: string, modules: readonly string[] = NEXT_RUNTIMES): string[] {
  const load = createRequire(join(webDir, "package.json"));
  const loaded: string[] = [];
  for (const m of modules) {
    try {
      load(m);
      loaded.push(m);
    } catch {
      // Not in this version of Next: it loads its runtime itself, on the first request.
    }
  }
  return loaded;
}
