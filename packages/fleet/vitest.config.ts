import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Integration tests open real SSH connections on loopback (~0.8 s for the first handshake).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
