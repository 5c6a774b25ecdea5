import { defineConfig } from "vitest/config";

// Each file starts a whole backend (embedded database + lab over SSH): generous hooks, one file at a time.
export default defineConfig({
  test: { hookTimeout: 180_000, testTimeout: 60_000, fileParallelism: false },
});
