import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/global-setup.ts"],
    // Each file opens its own database (a copied PGlite cluster, or a new PostgreSQL database).
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
