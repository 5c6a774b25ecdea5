import { defineConfig } from "@playwright/test";
import base from "../playwright.config.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The same product, pointed at the real lab (`pnpm lab:real up` first, as root): real libvirt,
 * Open vSwitch and Docker Swarm behind the same screens.
 */
const port = 3198;
const fleet = process.env.NIMBUS_REAL_FLEET ?? resolve(import.meta.dirname, "../../.nimbus/lab-real/fleet.json");

export default defineConfig({
  ...base,
  testDir: ".",
  testMatch: "*.real.ts",
  retries: 0,
  timeout: 180_000,
  use: { ...base.use, baseURL: `http://127.0.0.1:${port}` },
  outputDir: "../../.nimbus/e2e-real-results",
  webServer: {
    ...(base.webServer as object),
    command: "pnpm --filter @nimbus/server start",
    url: `http://127.0.0.1:${port}/healthz`,
    env: {
      NIMBUS_PORT: String(port),
      NIMBUS_DATA_DIR: mkdtempSync(join(tmpdir(), "nimbus-e2e-real-")),
      NIMBUS_CONFIG: fleet,
      NIMBUS_ADMIN_PASSWORD: "e2e-admin-password-1",
      NIMBUS_LOG_LEVEL: "warn",
    },
  },
});
