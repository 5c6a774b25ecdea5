import { defineConfig } from "vitest/config";

// Each file starts a whole backend (embedded database + lab over SSH): generous hooks, one file at a time.
// The database of each starts from a migrated template (test/global-setup.ts).
export default defineConfig({
  test: { hookTimeout: 180_000, testTimeout: 60_000, fileParallelism: false, globalSetup: ["test/global-setup.ts"] },
});
