import { defineConfig } from "vitest/config";

// Tests against the real lab (`pnpm lab:real up` first, as root). They share one lab, so they
// run one file at a time and one test at a time: each failure test restores what it broke.
export default defineConfig({
  test: {
    include: ["test/real/**/*.test.ts"],
    // Its own run (vitest.real-swarm.config.ts): two TCG worker VMs take longer than CI's budget here.
    // The image test needs no lab: CI runs it beside this suite (vitest.real-image.config.ts).
    exclude: ["test/real/swarm-worker.test.ts", "test/real/image-build.test.ts", "**/node_modules/**"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
