import { ADMIN, expect, test } from "./fixtures";

/** The built pages under the production CSP, and the post-sign-in `next` parameter, as an attacker would probe them. */

test("pages run under a nonce CSP: no inline script without it, nothing blocked, the theme script runs", async ({ page }) => {
  // Recorded by a script the browser injects itself (not subject to the page's CSP).
  await page.addInitScript(() => {
    (window as unknown as { violations: string[] }).violations = [];
    document.addEventListener("securitypolicyviolation", (e) => (window as unknown as { violations: string[] }).violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    localStorage.setItem("nimbus-theme", "dark");
  });
  const response = await page.goto("/login");
  const csp = response!.headers()["content-security-policy"]!;
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  // The inline theme script ran (it carries the nonce) and the page hydrated.
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("user-name")).toBeVisible();
  // zod probes once whether it may compile parsers with eval (`Function("")`) and, refused, parses
  // without: that refusal is the policy working (production never allowed eval), not a breakage.
  const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations);
  expect(violations.filter((v) => v !== "script-src eval")).toEqual([]);
});

// As an attacker writes them in a link: the query decodes "%09" to a tab, which browsers drop.
for (const next of ["/\\evil.example", "/%09/evil.example", "/\\/evil.example", "/%5C%5Cevil.example"]) {
  test(`after sign-in, next=${next} stays on Nimbus`, async ({ page }) => {
    await page.goto(`/login?next=${next}`);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: /sign in/i }).click();
    await expect(page.getByTestId("user-name")).toBeVisible();
    expect(new URL(page.url()).host).toBe(new URL(test.info().project.use.baseURL!).host);
  });
}
