import type { Locator, Page } from "@playwright/test";
import { expect, screenshotsWritten } from "./fixtures.js";

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };

/**
 * Screenshots of one panel, light and dark, desktop and phone: docs/screenshots/NAME-WIDTH-SCHEME.png.
 * `drawn` is what must be visible again after each resize or theme change (uPlot redraws its canvas).
 */
export async function panelShots(page: Page, panel: Locator, name: string, drawn = "canvas") {
  await expect(page.locator("[data-sonner-toast]")).toHaveCount(0);
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [width, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(size);
      await panel.scrollIntoViewIfNeeded();
      await expect(panel.locator(drawn).first()).toBeVisible();
      // Not written under CI (NIMBUS_E2E_SCREENSHOTS=0, see fixtures.ts): the waits above still run.
      if (screenshotsWritten) await panel.screenshot({ path: `docs/screenshots/${name}-${width}-${scheme}.png` });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(DESKTOP);
}
