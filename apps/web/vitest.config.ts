import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  // Render and state tests without globals of their own (fake timers are put back after each
  // test), so files share their workers' module cache (isolate: false: no worker start per file).
  test: { include: ["src/**/*.test.{ts,tsx}"], environment: "node", isolate: false },
});
