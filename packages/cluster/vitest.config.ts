import { configDefaults, defineConfig } from "vitest/config";

// Pure parts always; the *.pg.test.ts files need a real PostgreSQL (DATABASE_URL, see
// packages/db/scripts/with-postgres.sh): they are left out of a run without one (the embedded
// step), run by the PostgreSQL step, and fail there if it has none.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(process.env.DATABASE_URL ? [] : ["test/**/*.pg.test.ts"])],
    environment: "node",
    // The *.pg.test.ts files each run replicas (server processes), a lab and HAProxy, and time
    // leases: one at a time, after the other projects' files (the unit files alone run in parallel).
    fileParallelism: !process.env.DATABASE_URL,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
