import { defineConfig } from "vitest/config";

// Runs only this package's tests from inside it (the root config lists projects from the repo root).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // The integration test opens real SSH connections on loopback; the 2,000-host test builds a big world.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
