import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, findSourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NEXT_RUNTIMES, preloadNextRuntimes, withoutSourceMaps } from "../src/source-maps.js";

// A CommonJS module naming an inline source map, as Next's compiled server names its map files.
const mapped = (name: string) => {
  const map = Buffer.from(JSON.stringify({ version: 3, sources: [`${name}.ts`], names: [], mappings: "AAAA" })).toString("base64");
  return `module.exports = ${JSON.stringify(name)};\n//# sourceMappingURL=data:application/json;base64,${map}\n`;
};

describe("Next.js is loaded without keeping its source maps", () => {
  let dir: string;
  const was = process.sourceMapsEnabled;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nimbus-source-maps-"));
    for (const name of ["ours", "theirs"]) writeFileSync(join(dir, `${name}.js`), mapped(name));
    mkdirSync(join(dir, "node_modules", "runtime"), { recursive: true });
    writeFileSync(join(dir, "node_modules", "runtime", "index.js"), mapped("runtime"));
    writeFileSync(join(dir, "package.json"), "{}");
  });
  afterEach(() => process.setSourceMapsEnabled(was));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the maps of what was loaded before, not of what loads inside, and turns support back on", async () => {
    process.setSourceMapsEnabled(true);
    const load = createRequire(join(dir, "package.json"));
    load("./ours.js");
    const inside = await withoutSourceMaps(async () => {
      const off = process.sourceMapsEnabled;
      load("./theirs.js");
      return off;
    });
    expect(inside).toBe(false);
    expect(process.sourceMapsEnabled).toBe(true);
    expect(findSourceMap(join(dir, "ours.js"))).toBeDefined();
    expect(findSourceMap(join(dir, "theirs.js"))).toBeUndefined();
  });

  it("puts support back as it was when loading throws, and leaves it off when it was off", async () => {
    process.setSourceMapsEnabled(true);
    await expect(withoutSourceMaps(() => Promise.reject(new Error("next failed")))).rejects.toThrow("next failed");
    expect(process.sourceMapsEnabled).toBe(true);
    process.setSourceMapsEnabled(false);
    await withoutSourceMaps(async () => undefined);
    expect(process.sourceMapsEnabled).toBe(false);
  });

  it("preloads the runtimes that exist from the web app's directory and skips the others", async () => {
    process.setSourceMapsEnabled(true);
    const loaded = await withoutSourceMaps(async () => preloadNextRuntimes(dir, ["runtime", "not-installed/module.compiled"]));
    expect(loaded).toEqual(["runtime"]);
    expect(findSourceMap(join(dir, "node_modules", "runtime", "index.js"))).toBeUndefined();
  });

  it("names the page and route runtimes where the installed Next.js has them", () => {
    // Resolved, not loaded (megabytes): a Next upgrade that moves them fails here, not silently at 2,000 hosts.
    const web = createRequire(resolve(import.meta.dirname, "../../web/package.json"));
    for (const m of NEXT_RUNTIMES) expect(() => web.resolve(m)).not.toThrow();
  });
});
