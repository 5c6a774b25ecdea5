import { defineConfig } from "vitest/config";

// Unit tests only: pure renderers and rules. The real-lab suite has its own config and script
// (test:real) because it needs root and a lab that is up.
// Pure, so files share their workers' module cache (isolate: false: no worker start per file).
export default defineConfig({ test: { include: ["test/unit/**/*.test.ts"], isolate: false } });
