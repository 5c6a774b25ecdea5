import { defineConfig, devices } from "@playwright/test";
import { chromiumLaunchOptions } from "../chromium.js";

/**
 * Replica mode end to end: the spec starts its own cluster (packages/cluster/test/harness: one
 * PostgreSQL database, a standalone lab, two server replicas with the built web app, a real HAProxy)
 * and drives Debian's Chromium through HAProxy. Needs DATABASE_URL and a built web app:
 *   sh packages/db/scripts/with-postgres.sh pnpm exec playwright test -c e2e/cluster/playwright.cluster.config.ts (scripts/test.sh does)
 */
export default defineConfig({
  testDir: ".",
  // Not *.spec.ts: the embedded-lab suite (e2e/playwright.config.ts) must not pick this one up.
  testMatch: "*.cluster.ts",
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: chromiumLaunchOptions(),
  },
  projects: [{ name: "desktop", use: { ...devices["Desktop Chrome"], viewport: { width: 1440, height: 900 } } }],
  outputDir: process.env.NIMBUS_E2E_OUTPUT ?? "../../.nimbus/e2e-cluster-results",
});
