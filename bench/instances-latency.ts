import type { Page } from "@playwright/test";

/**
 * Change-to-browser on the Instances page (issue 16): a VM on the visible page changes (powered
 * off or on through the API, i.e. a real agent job in the lab), and the time is taken from the
 * request that changes it until its row on an open Instances page shows the new state, patched by
 * the live channel (no reload of the page). The row's menu and position are not touched: the
 * page patches only the rows it holds. `samples` changes, alternating over the first rows shown;
 * every VM is left as it was found.
 */
export async function instancesPageLatency(page: Page, url: string, samples: number): Promise<number[]> {
  await page.goto(`${url}/instances?sort=name`);
  const ROW = '[data-testid^="instance-row-"]';
  await page.locator(ROW).first().waitFor();
  await page.waitForLoadState("networkidle");
  await page.evaluate(`new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 }))`);
  const rows = await page.locator(ROW).evaluateAll((els) => els.slice(0, 8).map((r) => r.getAttribute("data-testid")!.slice("instance-row-".length)));
  const stateOf = (name: string) => page.locator(`[data-testid="instance-row-${name}"] [data-tone]`).first().textContent();
  const initial = new Map<string, string>();
  for (const name of rows) initial.set(name, (await stateOf(name)) ?? "");
  const power = async (name: string, action: "start" | "destroy") => {
    const res = await page.request.post(`${url}/api/trpc/instances.power`, { data: { name, action }, headers: { origin: url } });
    if (!res.ok()) throw new Error(`instances.power ${action} ${name}: ${res.status()} ${(await res.text()).slice(0, 200)}`);
  };
  const latencies: number[] = [];
  const usable = rows.filter((n) => /^(Running|Shut off)$/.test(initial.get(n) ?? ""));
  if (!usable.length) return latencies;
  try {
    for (let i = 0; i < samples; i++) {
      const name = usable[i % usable.length]!;
      const running = (await stateOf(name)) === "Running";
      const want = running ? "Shut off" : "Running";
      // A string, not a function: tsx's name-keeping helpers do not exist inside the page.
      const seen = page.evaluate<number>(`new Promise((resolve) => {
        const sel = ${JSON.stringify(`[data-testid="instance-row-${name}"] [data-tone]`)};
        const done = () => document.querySelector(sel)?.textContent === ${JSON.stringify(want)} && (resolve(Date.now()), true);
        if (done()) return;
        const observer = new MutationObserver(() => done() && observer.disconnect());
        observer.observe(document.body, { subtree: true, childList: true, characterData: true });
        // Never shown: the sample is reported as missing rather than waited for without end.
        setTimeout(() => resolve(-1), 10000);
      })`);
      const before = Date.now();
      await power(name, running ? "destroy" : "start");
      const at = await seen;
      if (at < 0) throw new Error(`the Instances page never showed ${name} as ${want} (10 s)`);
      latencies.push(at - before);
    }
  } finally {
    for (const name of usable) if ((await stateOf(name)) !== initial.get(name)) await power(name, initial.get(name) === "Running" ? "start" : "destroy");
  }
  return latencies;
}
