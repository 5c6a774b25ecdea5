import { defineConfig, devices } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN } from "./fixtures.js";

/**
 * End-to-end against the real product: the server (built web app + API) with the embedded lab
 * in a fresh data directory, driven through Debian's Chromium (never a downloaded browser).
 */
const port = Number(process.env.NIMBUS_E2E_PORT ?? 3199);
const baseURL = `http://127.0.0.1:${port}`;
const dataDir = process.env.NIMBUS_E2E_DATA ?? mkdtempSync(join(tmpdir(), "nimbus-e2e-"));
process.env.NIMBUS_E2E_DATA = dataDir;

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: chromiumLaunchOptions(),
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], viewport: { width: 1440, height: 900 } } },
  ],
  outputDir: "../.nimbus/e2e-results",
  webServer: {
    command: "pnpm --filter @nimbus/server start",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    env: {
      NIMBUS_PORT: String(port),
      NIMBUS_DATA_DIR: dataDir,
      NIMBUS_ADMIN_PASSWORD: ADMIN.password,
      // Lab time runs 5x (a create's image build 4 s, not 10 s at 2x). Specs that act on an
      // operation while it runs hold it with a lab hook (hold-service-update) instead of racing it.
      NIMBUS_LAB_SPEED: "5",
      NIMBUS_LOG_LEVEL: "warn",
      // Every spec signs its users in from 127.0.0.1; the whole suite is more than 60 a minute.
      NIMBUS_SIGNIN_REQUESTS_PER_MINUTE: "1000",
    },
  },
});
