import { test as base, expect, type APIRequestContext, type BrowserContext, type Page } from "@playwright/test";

export const ADMIN = { email: "admin@nimbus.local", password: "e2e-admin-password-1" };
const baseURL = `http://127.0.0.1:${process.env.NIMBUS_E2E_PORT ?? 3199}`;

/** Signs a request context in through the same endpoint the login page uses. */
export async function apiSignIn(request: APIRequestContext, email: string, password: string) {
  const res = await request.post("/api/auth/sign-in/email", { data: { email, password }, headers: { origin: baseURL } });
  expect(res.status(), await res.text()).toBe(200);
}

/** Calls a tRPC mutation as the signed-in context (how tests seed users and break the lab). */
export async function mutate(request: APIRequestContext, path: string, input: unknown) {
  const res = await request.post(`/api/trpc/${path}`, { data: input, headers: { origin: baseURL } });
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body.error?.message ?? body)}`);
  return body.result.data;
}

/** Calls a tRPC query as the signed-in context (how tests read what the UI should show). */
export async function query(request: APIRequestContext, path: string, input: unknown) {
  const res = await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body.error?.message ?? body)}`);
  return body.result.data;
}

/**
 * Signs a page's browser context in through the sign-in endpoint (the page's request context
 * shares its cookies): for specs whose subject is not the sign-in form, it saves loading /login
 * and the Overview it lands on (~1-2 s a test on CI's 2 cores). The form itself is walked by
 * uiSignIn in roles, sign-in-hardening and load-balancers.
 */
export async function signIn(page: Page, email: string, password: string) {
  await apiSignIn(page.request, email, password);
}

export async function uiSignIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("user-name")).toBeVisible();
}

/**
 * Waits until a lab host is online again after a fault was undone, so the next spec starts from a
 * whole lab (a host reconnects with backoff, a few seconds after its link is back).
 */
export async function hostOnline(admin: APIRequestContext, host: string) {
  await expect
    .poll(async () => ((await query(admin, "hosts.list", {})) as { name: string; state: string }[]).find((h) => h.name === host)?.state, { timeout: 60_000 })
    .toBe("online");
}

let seq = 0;
/** A fresh user of a role, created by the admin through the API. */
export async function seedUser(request: APIRequestContext, role: "operator" | "oncall" | "tenant", tenant: string | null = null) {
  const user = { email: `${role}-${Date.now()}-${++seq}@e2e.test`, name: `E2E ${role} ${seq}`, password: `e2e-password-${seq}-long`, role, tenant };
  await mutate(request, "admin.users.create", user);
  return user;
}

/**
 * NIMBUS_E2E_SCREENSHOTS=0 (scripts/test.sh sets it under CI): the specs' screenshots for
 * docs/screenshots/ are not written. A clean clone's CI throws them away, and each is a full-page
 * capture. Failure screenshots and traces are Playwright's own and stay. Every page of every
 * context a spec opens is covered (the browser's newContext is wrapped).
 */
export const screenshotsWritten = process.env.NIMBUS_E2E_SCREENSHOTS !== "0";
const patched = new WeakSet<object>();
function patchPage(page: Page) {
  if (patched.has(page)) return;
  patched.add(page);
  const take = page.screenshot.bind(page);
  page.screenshot = (async (options?: Parameters<Page["screenshot"]>[0]) => {
    return screenshotsWritten ? take(options) : Buffer.alloc(0);
  }) as Page["screenshot"];
}
function patchContext(context: BrowserContext) {
  if (patched.has(context)) return;
  patched.add(context);
  context.pages().forEach(patchPage);
  context.on("page", patchPage);
}

export const test = base.extend<{ admin: APIRequestContext }, { _shots: void }>({
  _shots: [
    async ({ browser }, use) => {
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        patchContext(context);
        return context;
      };
      await use();
    },
    { scope: "worker", auto: true },
  ],
  context: async ({ context }, use) => {
    patchContext(context);
    await use(context);
  },
  admin: async ({ playwright }, use) => {
    const request = await playwright.request.newContext({ baseURL });
    await apiSignIn(request, ADMIN.email, ADMIN.password);
    await use(request);
    await request.dispose();
  },
});
export { expect };
