import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// One run over every package's unit and integration tests. The real-lab suite needs root and
// running daemons, so it has its own runner (scripts/test.sh starts it after `lab:real up`).
//
// maxWorkers: vitest's default is one worker less than the CPUs, i.e. ONE on CI's 2 cores: every file
// ran after the other (a CI run's report shows no two files overlapping) while most of them wait on
// SSH, timers and child processes. Two workers at least. Projects with `fileParallelism: false`
// (apps/server; cluster on PostgreSQL) still run one file at a time, after the others.
export default defineConfig({
  test: {
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: ["packages/domain", "packages/agent", "packages/fleet", "packages/lab", "packages/db", "packages/auth", "packages/cluster", "packages/api", "packages/lab-real", "apps/server", "apps/web"],
  },
});
