import { test, expect, signIn, ADMIN } from "./fixtures.js";

test("an admin scales a swarm service and watches replicas converge", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  const replicas = page.getByTestId("replicas-web");
  await expect(replicas).toContainText("3/3");
  // Record every value the cell shows, to see the convergence, not only its end.
  await page.evaluate(`(() => {
    const read = () => document.querySelector('[data-testid="replicas-web"]')?.textContent;
    window.__replicas = [read()];
    new MutationObserver(() => read() !== window.__replicas.at(-1) && window.__replicas.push(read())).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  await page.getByTestId("scale-web").click();
  await page.getByTestId("scale-replicas").fill("7");
  await page.getByTestId("scale-submit").click();
  await expect(replicas).toContainText("7/7", { timeout: 30_000 });
  // The row showed the new target before the tasks were running (pushed while converging).
  const seen = (await page.evaluate("window.__replicas")) as string[];
  expect(seen, JSON.stringify(seen)).toEqual(expect.arrayContaining([expect.stringMatching(/^[3-6]\/7/)]));
});
