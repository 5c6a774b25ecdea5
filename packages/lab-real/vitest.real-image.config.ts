import { defineConfig } from "vitest/config";

// The offline base image (build or cache hit, then a guest volume from it with virt-builder): real
// tools as root, no lab needed, so `npm test` runs it beside the lab's suite (vitest.real.config.ts).
export default defineConfig({
  test: {
    include: ["test/real/image-build.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
