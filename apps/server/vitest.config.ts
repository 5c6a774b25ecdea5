import { defineConfig } from "vitest/config";

// Each file starts a whole backend (embedded database + lab over SSH on free ports): generous hooks.
// The database of each starts from a migrated template (test/global-setup.ts). Files run in
// parallel with the other projects' files: they mostly wait on lab time and timeouts, and a
// project without file parallelism ran as one sequential group after all the others (one worker
// for ~3 min of CI while the other core idled).
export default defineConfig({
  test: { hookTimeout: 180_000, testTimeout: 60_000, globalSetup: ["test/global-setup.ts"] },
});
