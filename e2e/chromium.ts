import type { LaunchOptions } from "@playwright/test";

/**
 * How every Playwright run of Nimbus starts a browser: Debian's Chromium (never a downloaded one),
 * without a sandbox or GPU (containers, CI), without any traffic of its own, and with every host
 * name but the loopback unresolvable (tests may only reach 127.0.0.0/8). Used by the e2e configs
 * (embedded lab, real lab, replica mode), the screenshot script and the benches.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

export function chromiumLaunchOptions(executablePath = "/usr/bin/chromium"): LaunchOptions {
  return { executablePath, args: [...CHROMIUM_ARGS] };
}
