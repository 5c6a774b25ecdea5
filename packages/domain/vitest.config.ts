import { defineConfig } from "vitest/config";

// Without a config of its own, `vitest run` inside this package picks up the root config and
// resolves its project paths from here. This keeps `pnpm test` in the package working.
export default defineConfig({ test: { include: ["test/**/*.test.ts"] } });
