import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/global-setup.ts"],
    // Creating a PGlite cluster (initdb + migrations) takes 3-4 s on two idle cores, 20 s when busy.
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
