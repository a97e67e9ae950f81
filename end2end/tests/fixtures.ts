import { test as base, expect } from "@playwright/test";

// Every page test fails on a console error or an uncaught exception, except
// the refusals a test provokes on purpose and declares with `expectRefusals`
// (the browser logs every 4xx answer to a server function as an error).
export const test = base.extend<{ consoleErrors: string[]; expectRefusals: (n: number) => void }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      const allowed = (page as unknown as { __refusals?: number }).__refusals ?? 0;
      const refusals = errors.filter((e) => /status of 4\d\d/.test(e));
      const others = errors.filter((e) => !/status of 4\d\d/.test(e));
      expect(others, "console errors").toEqual([]);
      expect(refusals.length, `unexpected refusals: ${refusals.join(" | ")}`).toBeLessThanOrEqual(allowed);
    },
    { auto: true },
  ],
  expectRefusals: async ({ page }, use) => {
    await use((n: number) => {
      const p = page as unknown as { __refusals?: number };
      p.__refusals = (p.__refusals ?? 0) + n;
    });
  },
});

export { expect };

/** What a browser says about a request from RepoPass's own pages:
 *  RepoPass refuses a signed-in state-changing request that says nothing
 *  (page.request sends the browser's cookies but not this header). */
export const FROM_OUR_PAGES = { "sec-fetch-site": "same-origin" };

/** Resolves once the wasm has hydrated the page. */
export async function hydrated(page: import("@playwright/test").Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/** The creator puts sandbox-org/enterprise-sdk on sale at $9/month, through
 *  the admin panel's server functions (with the signed-in browser's cookies). */
export async function putOnSale(page: import("@playwright/test").Page): Promise<string> {
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const reachable = await (await page.request.post("/api/admin/repositories/reachable", { headers: FROM_OUR_PAGES })).json();
  const sdk = reachable.find((r: { full_name: string }) => r.full_name === "sandbox-org/enterprise-sdk");
  if (!sdk.already_added) {
    await page.request.post("/api/admin/repositories/add", { headers: FROM_OUR_PAGES, form: { github_id: String(sdk.github_id) } });
  }
  const list = await (await page.request.post("/api/admin/repositories/list", { headers: FROM_OUR_PAGES })).json();
  const id = String(list.find((r: { full_name: string }) => r.full_name === "sandbox-org/enterprise-sdk").id);
  await page.request.post("/api/admin/repositories/save", {
    headers: FROM_OUR_PAGES,
    form: { id, slug: "enterprise-sdk", title: "Enterprise SDK", summary: "The SDK, with support", description: "## What you get\n\nThe **whole** SDK." },
  });
  const repo = await (await page.request.post("/api/admin/repositories/get", { headers: FROM_OUR_PAGES, form: { id } })).json();
  if (repo.prices.length === 0) {
    const added = await page.request.post("/api/admin/prices/add", {
      headers: FROM_OUR_PAGES,
      form: { repository_id: id, interval: "month", amount: "9", currency: "usd", trial_days: "0", permission: "pull" },
    });
    expect(added.ok(), await added.text()).toBeTruthy();
  }
  // An archived page (see takeOffSale) comes back unpublished first, as the editor's "Restore" does.
  if (repo.status === "archived") {
    await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "unpublished" } });
  }
  const published = await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "published" } });
  expect(published.ok(), await published.text()).toBeTruthy();
  await signOut(page);
  return id;
}

/** Archives it again, so the storefront's empty-state test still holds. */
export async function takeOffSale(page: import("@playwright/test").Page, id: string) {
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "archived" } });
  await signOut(page);
}

/** Leaves the dashboard before signing out: its live activity stream,
 *  still open, would reconnect after the sign-out and get the 401 a
 *  signed-out browser gets — a refusal the calling test did not cause. */
async function signOut(page: import("@playwright/test").Page) {
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
}

