import { defineConfig } from "vitest/config";

// Lets `npx vitest run` inside this package run only its own tests (the root config is a
// projects list that resolves paths from the repository root).
// The agent's modules keep no state of their own and the tests put back what they fake (timers), so
// files share their workers' module cache (isolate: false: no worker start and re-import per file).
export default defineConfig({ test: { include: ["test/**/*.test.ts"], isolate: false } });
