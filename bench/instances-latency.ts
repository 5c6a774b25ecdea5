import type { Page } from "@playwright/test";
import type { LabControlClient } from "@nimbus/lab";

/**
 * Change-to-browser on the Instances page (issue 16), two figures on an open page sorted by name:
 *   - `change`: a VM on the visible page stops or starts ON ITS HOST (the lab's `power-vm`: as if
 *     someone ran virsh there; no agent job), timed from that change until its row shows the new
 *     state, pushed by the host and patched by the live channel (no reload of the page). This is
 *     the issue's change-to-browser figure, measured like the Storage one.
 *   - `viaApi`: the same through `instances.power` (a real agent job in the lab: it includes the
 *     job's run), timed from the request. A separate, labelled figure.
 * The row's menu and position are not touched: the page patches only the rows it holds. Samples
 * alternate over the first rows shown; every VM is left as it was found.
 */
export async function instancesPageLatency(page: Page, url: string, control: LabControlClient, samples: number): Promise<{ change: number[]; viaApi: number[] }> {
  await page.goto(`${url}/instances?sort=name`);
  const ROW = '[data-testid^="instance-row-"]';
  await page.locator(ROW).first().waitFor();
  await page.waitForLoadState("networkidle");
  await page.evaluate(`new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 }))`);
  const rows = await page.locator(ROW).evaluateAll((els) => els.slice(0, 8).map((r) => r.getAttribute("data-testid")!.slice("instance-row-".length)));
  const stateOf = (name: string) => page.locator(`[data-testid="instance-row-${name}"] [data-tone]`).first().textContent();
  const initial = new Map<string, string>();
  for (const name of rows) initial.set(name, (await stateOf(name)) ?? "");
  const viaApi = async (name: string, action: "start" | "destroy") => {
    const res = await page.request.post(`${url}/api/trpc/instances.power`, { data: { name, action }, headers: { origin: url } });
    if (!res.ok()) throw new Error(`instances.power ${action} ${name}: ${res.status()} ${(await res.text()).slice(0, 200)}`);
  };
  const onHost = (name: string, on: boolean) => control.fault("power-vm", [name, on ? "on" : "off"]);
  const usable = rows.filter((n) => /^(Running|Shut off)$/.test(initial.get(n) ?? ""));
  const out = { change: [] as number[], viaApi: [] as number[] };
  if (!usable.length) return out;
  const sample = async (i: number, how: "change" | "viaApi") => {
    const name = usable[i % usable.length]!;
    const running = (await stateOf(name)) === "Running";
    const want = running ? "Shut off" : "Running";
    // A string, not a function: tsx's name-keeping helpers do not exist inside the page.
    const seen = page.evaluate<number>(`new Promise((resolve) => {
      const sel = ${JSON.stringify(`[data-testid="instance-row-${name}"] [data-tone]`)};
      const done = () => document.querySelector(sel)?.textContent === ${JSON.stringify(want)} && (resolve(performance.timeOrigin + performance.now()), true);
      if (done()) return;
      const observer = new MutationObserver(() => done() && observer.disconnect());
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      // Never shown: the sample is reported as missing rather than waited for without end.
      setTimeout(() => resolve(-1), 10000);
    })`);
    const before = Date.now();
    if (how === "change") await onHost(name, !running);
    else await viaApi(name, running ? "destroy" : "start");
    const at = await seen;
    if (at < 0) {
      // Where the change was lost: what the row shows now, and what the server's page answers.
      const shows = await page.locator(`[data-testid="instance-row-${name}"] [data-tone]`).first().textContent({ timeout: 1000 }).catch(() => "(no row)");
      const res = await page.request.get(`${url}/api/trpc/instances.page?input=${encodeURIComponent(JSON.stringify({ q: name, limit: 5 }))}`);
      const server = res.ok() ? ((await res.json()) as { result: { data: { items: { name: string; state: string }[] } } }).result.data.items.find((i) => i.name === name)?.state : `HTTP ${res.status()}`;
      throw new Error(`the Instances page never showed ${name} as ${want} (10 s; sample ${out[how].length + 1} of ${how}; the row shows ${shows}, the server's page says ${server})`);
    }
    out[how].push(at - before);
  };
  try {
    for (let i = 0; i < samples; i++) await sample(i, "change");
    for (let i = 0; i < Math.min(samples, 10); i++) await sample(i, "viaApi");
  } finally {
    for (const name of usable) if ((await stateOf(name)) !== initial.get(name)) await onHost(name, initial.get(name) === "Running");
  }
  return out;
}
