import type { Page } from "@playwright/test";
import { test, expect, signIn, ADMIN, mutate, query, seedUser } from "./fixtures.js";

/**
 * Instances on demand, walked in a browser against the embedded lab: an admin creates an
 * instance and watches it boot on the operation's own page; a tenant member creates one within
 * its quota, is refused the next with the quota's reason, and deletes the first by typing its
 * name. Screenshots of the form and the progress at desktop and phone width, light and dark, go
 * to docs/screenshots/create-*.png for people to look at.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** A simulated create builds, boots and reports an address in well under a minute at the e2e lab speed. */
const BOOT_TIMEOUT = 120_000;

/**
 * The page as it is now, at both widths and in both themes (the theme class, as the toggle sets
 * it). The viewport is made as tall as the page instead of a full-page capture, so the sticky
 * sidebar and placement column sit where a reader sees them; toasts are let go first.
 */
async function screenshots(page: Page, name: string) {
  await expect(page.locator("[data-sonner-toast]")).toHaveCount(0);
  for (const theme of ["light", "dark"] as const) {
    await page.evaluate((dark) => document.documentElement.classList.toggle("dark", dark), theme === "dark");
    for (const [width, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(size);
      await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
      await page.screenshot({ path: `docs/screenshots/create-${name}-${width}-${theme}.png` });
    }
  }
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
  await page.setViewportSize(DESKTOP);
}

/** The first image the catalog lists (the lab's datastores carry a built Debian base image). */
async function firstImage(page: Page): Promise<string> {
  const select = page.getByLabel("Image", { exact: true });
  await expect(select.locator("option").nth(1)).toBeAttached();
  return (await select.locator("option").nth(1).getAttribute("value"))!;
}

test("an admin creates an instance, follows its steps, and sees it running with an address", async ({ page, admin }) => {
  const name = `e2e-admin-${Date.now().toString(36)}`;
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/instances");
  await page.getByTestId("new-instance").click();
  await expect(page).toHaveURL(/\/instances\/new$/);

  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Image", { exact: true }).selectOption(await firstImage(page));
  await page.getByLabel("Tenant", { exact: true }).selectOption("globex");
  await expect(page.getByTestId("network-vni")).not.toHaveText("—");
  await page.getByTestId("size-medium").click();
  await page.getByLabel("First-boot commands", { exact: true }).fill("echo hello > /etc/motd");

  // Automatic placement: a chosen host and why, the other candidates ranked below it.
  const reason = page.getByTestId("placement-reason");
  await expect(reason).toContainText("Goes to ");
  await expect(reason).not.toHaveAttribute("data-chosen", "");
  await expect(page.getByTestId("quota-usage")).toBeVisible();

  // A refused value is said next to its field, in words, and the form is not sent.
  await page.getByLabel("vCPU", { exact: true }).fill("0");
  await expect(page.getByText("vCPUs is at least 1")).toBeVisible();
  await page.getByLabel("vCPU", { exact: true }).fill("2");
  await expect(page.getByText("vCPUs is at least 1")).toHaveCount(0);
  await expect(reason).toContainText("Goes to ");
  await screenshots(page, "form");

  await page.getByTestId("create-submit").click();
  await expect(page).toHaveURL(/\/operations\/[^/]+$/);
  const detail = page.getByTestId("operation-detail");
  await expect(detail).toHaveAttribute("data-kind", "create");
  await expect(page.getByTestId("operation-steps")).toBeVisible();
  await expect(page.getByTestId("step-build-volume")).toBeVisible();
  // Live: steps finish and log lines arrive without a reload; the build's log opens in place.
  await expect(page.getByTestId("step-check")).toHaveAttribute("data-state", "succeeded");
  const buildLog = page.getByTestId("step-log-build-volume");
  await buildLog.locator("summary").click();
  await expect(buildLog.locator("pre")).toBeVisible();
  await screenshots(page, "progress");

  await expect(detail).toHaveAttribute("data-state", "succeeded", { timeout: BOOT_TIMEOUT });
  for (const id of ["check", "build-volume", "define", "start", "wait-address"]) await expect(page.getByTestId(`step-${id}`)).toHaveAttribute("data-state", "succeeded");
  const address = (await page.getByTestId("operation-address").textContent())!.trim();
  expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  await expect(page.getByTestId("operation-outcome")).toContainText(`${name} is running at ${address}`);
  await screenshots(page, "done");

  // The instance has that address on its page, and is in the list, running.
  await page.getByTestId("operation-target").click();
  await expect(page).toHaveURL(new RegExp(`/instances/${name}$`));
  await expect(page.getByText("Running").first()).toBeVisible();
  await expect(page.getByText(address).first()).toBeVisible();
  await page.goto(`/instances?q=${name}`);
  const row = page.getByTestId(`instance-row-${name}`);
  await expect(row).toContainText("Running");

  // The operations table links to the operation's own page.
  await page.goto(`/operations?kind=create&q=${name}`);
  await page.getByTestId("operation-link").first().click();
  await expect(page.getByTestId("operation-detail")).toHaveAttribute("data-state", "succeeded");

  // Leave the lab as it was for the specs that follow (they count hosts' memory and VMs).
  const { operationId } = await mutate(admin, "instances.delete", { name, confirm: name });
  await expect.poll(async () => (await query(admin, "operations.get", { id: operationId })).state, { timeout: BOOT_TIMEOUT }).toBe("succeeded");
});

test("a tenant member creates within the quota, is refused over it with the reason, and deletes by typing the name", async ({ page, admin }) => {
  const member = await seedUser(admin, "tenant", "acme");
  // Room for exactly one more instance of acme, whatever the lab already runs for it.
  const before = await query(admin, "tenants.quota", { tenant: "acme" });
  await mutate(admin, "tenants.setQuota", { tenant: "acme", quota: { ...before.quota, instances: before.usage.instances + 1, vcpus: null, memoryMiB: null, diskGiB: null } });

  const name = `e2e-tenant-${Date.now().toString(36)}`;
  await signIn(page, member.email, member.password);
  await page.goto("/instances");
  await expect(page.getByTestId("quota-instances")).toContainText(`${before.usage.instances} of ${before.usage.instances + 1}`);
  await page.getByTestId("new-instance").click();
  // Their own tenant, fixed; no host to pin, no bridge to pick.
  await expect(page.getByTestId("fixed-tenant")).toHaveText("acme");
  await expect(page.getByTestId("pin-host")).toHaveCount(0);
  await expect(page.getByLabel("Bridge", { exact: true })).toHaveCount(0);

  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Image", { exact: true }).selectOption(await firstImage(page));
  await expect(page.getByTestId("placement-reason")).toContainText("Goes to ");
  await page.getByTestId("create-submit").click();
  await expect(page).toHaveURL(/\/operations\/[^/]+$/);
  await expect(page.getByTestId("operation-detail")).toHaveAttribute("data-state", "succeeded", { timeout: BOOT_TIMEOUT });

  // The next one is over the quota: the form says why and does not send it; the server refuses it too.
  await page.goto("/instances/new");
  await page.getByLabel("Name", { exact: true }).fill(`${name}-2`);
  await page.getByLabel("Image", { exact: true }).selectOption(await firstImage(page));
  const refusal = page.getByTestId("quota-refusal");
  await expect(refusal).toContainText("Over acme's quota: needs 1 instance, 0 of");
  await expect(page.getByTestId("create-submit")).toBeDisabled();
  await screenshots(page, "over-quota");
  const vni = Number(await page.getByTestId("network-vni").textContent());
  const vlan = Number(await page.getByTestId("network-vlan").textContent());
  const image = await page.getByLabel("Image", { exact: true }).inputValue();
  const over = { name: `${name}-3`, image, vcpus: 1, memoryMiB: 1024, diskGiB: 10, tenant: "acme", network: { vlan, vni } };
  const tenantApi = page.request;
  const res = await tenantApi.post("/api/trpc/instances.create", { data: over, headers: { origin: new URL(page.url()).origin } });
  expect(res.status()).toBe(412);
  expect(JSON.stringify(await res.json())).toContain("over acme's quota");

  // Delete, from the instance page (the row's menu opens the same dialog): the dialog says what
  // goes and wants the name typed.
  await page.goto(`/instances/${name}`);
  await page.getByTestId("delete-button").click();
  const dialog = page.getByTestId("delete-dialog");
  await expect(dialog.getByTestId("delete-effects")).toContainText("its libvirt domain is undefined");
  await expect(dialog.getByTestId("delete-effects")).toContainText("volume is removed");
  await expect(dialog.getByTestId("delete-submit")).toBeDisabled();
  await dialog.getByTestId("delete-confirm-input").fill(`${name}x`);
  await expect(dialog.getByTestId("delete-submit")).toBeDisabled();
  await dialog.getByTestId("delete-confirm-input").fill(name);
  await dialog.getByTestId("delete-submit").click();
  await expect(page).toHaveURL(/\/operations\/[^/]+$/);
  await expect(page.getByTestId("operation-detail")).toHaveAttribute("data-kind", "delete");
  await expect(page.getByTestId("operation-detail")).toHaveAttribute("data-state", "succeeded", { timeout: BOOT_TIMEOUT });
  await expect(page.getByTestId("operation-outcome")).toContainText(`${name} deleted`);

  await page.goto(`/instances?q=${name}`);
  await expect(page.getByTestId(`instance-row-${name}`)).toHaveCount(0);
  await expect(page.getByTestId("quota-instances")).toContainText(`${before.usage.instances} of ${before.usage.instances + 1}`);

  await mutate(admin, "tenants.setQuota", { tenant: "acme", quota: before.quota });
});

test("an admin sets a tenant's quota on the tenants page and sees its usage there", async ({ page, admin }) => {
  const before = await query(admin, "tenants.quota", { tenant: "initech" });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/admin/tenants");
  await page.getByRole("button", { name: "Actions for initech" }).click();
  await page.getByTestId("action-quota").click();
  const dialog = page.getByTestId("quota-dialog");
  await expect(dialog.getByTestId("quota-usage")).toContainText("Instances");
  // A refused limit is said in words next to its field.
  await dialog.getByTestId("quota-input-vcpus").fill("-1");
  await dialog.getByTestId("save-quota").click();
  await expect(dialog.getByText("the vCPU limit cannot be negative")).toBeVisible();
  await dialog.getByTestId("quota-input-instances").fill(String(before.usage.instances + 3));
  await dialog.getByTestId("quota-input-vcpus").fill("16");
  await dialog.getByTestId("quota-input-memoryMiB").fill("32");
  await dialog.getByTestId("quota-input-diskGiB").fill("");
  await dialog.getByTestId("save-quota").click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("quota-cell-initech")).toContainText(`${before.usage.instances} / ${before.usage.instances + 3}`);
  const after = await query(admin, "tenants.quota", { tenant: "initech" });
  expect(after.quota).toEqual({ instances: before.usage.instances + 3, vcpus: 16, memoryMiB: 32 * 1024, diskGiB: null });
  expect(after.custom).toBe(true);
  await mutate(admin, "tenants.setQuota", { tenant: "initech", quota: before.quota });
});

test("a create whose image build fails says which step failed, what the tool printed, and what it cleaned up", async ({ page, admin }) => {
  const name = `e2e-fail-${Date.now().toString(36)}`;
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/instances/new");
  await page.getByLabel("Name", { exact: true }).fill(name);
  const image = await firstImage(page);
  await page.getByLabel("Image", { exact: true }).selectOption(image);
  await page.getByLabel("Tenant", { exact: true }).selectOption("initech");
  await expect(page.getByTestId("placement-reason")).toContainText("Goes to ");
  await mutate(admin, "lab.inject", { name: "fail-image-build", args: [image] });
  try {
    await page.getByTestId("create-submit").click();
    await expect(page).toHaveURL(/\/operations\/[^/]+$/);
    const detail = page.getByTestId("operation-detail");
    await expect(detail).toHaveAttribute("data-state", "failed", { timeout: BOOT_TIMEOUT });
    const build = page.getByTestId("step-build-volume");
    await expect(build).toHaveAttribute("data-state", /failed|undone/);
    // The failed step's log is open: the tool's own last words are on screen.
    await expect(page.getByTestId("step-log-build-volume").locator("pre")).toBeVisible();
    await expect(page.getByTestId("operation-outcome")).toContainText(`${name} was not created: Build the volume failed`);
    for (const id of ["define", "start", "wait-address"]) await expect(page.getByTestId(`step-${id}`)).toContainText("Not run");
    await screenshots(page, "failed");
  } finally {
    await mutate(admin, "lab.inject", { name: "restore-image-build", args: [image] });
  }
  await page.goto(`/instances?q=${name}`);
  await expect(page.getByTestId(`instance-row-${name}`)).toHaveCount(0);
});
