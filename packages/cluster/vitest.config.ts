import { defineConfig } from "vitest/config";

// Pure parts always; the integration tests need a real PostgreSQL (DATABASE_URL, see
// packages/db/scripts/with-postgres.sh) and are skipped without one, as @nimbus/db's postgres runs are.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
