import { defineConfig } from "vitest/config";

// Lets `npx vitest run` inside this package run only its own tests (the root config is a
// projects list that resolves paths from the repository root).
export default defineConfig({ test: { include: ["test/**/*.test.ts"] } });
