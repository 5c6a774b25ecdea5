import { defineConfig } from "vitest/config";

// One run over every package's unit and integration tests. The real-lab suite needs root and
// running daemons, so it has its own runner (scripts/test.sh starts it after `lab:real up`).
export default defineConfig({
  test: {
    projects: ["packages/domain", "packages/agent", "packages/fleet", "packages/lab", "packages/db", "packages/auth", "packages/cluster", "packages/api", "packages/lab-real", "apps/server", "apps/web"],
  },
});
