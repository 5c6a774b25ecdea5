import { defineConfig } from "vitest/config";

// The swarm worker test (two worker VMs built and booted under TCG, a stack on one of them): too
// long for the default real-lab run, so it runs on its own (`test:real:swarm`, lab up, as root).
export default defineConfig({
  test: {
    include: ["test/real/swarm-worker.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
