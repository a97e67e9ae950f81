import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";

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

/** A repository page to put on sale: which repository, its words, its prices. */
export type Listing = {
  fullName: string;
  slug: string;
  title: string;
  summary?: string;
  description?: string;
  /** Each as the price form sends it (interval, amount…); currency usd, read access, no trial unless given. */
  prices: Record<string, string>[];
  /** Another RepoPass than the one under test (absolute address). */
  base?: string;
};

/** Adds the repository (if needed), fills its page, adds its prices (when
 *  it has none) and publishes it, through the admin panel's server
 *  functions as the signed-in creator. Returns its id. */
export async function list(page: import("@playwright/test").Page, l: Listing): Promise<string> {
  const api = (fn: string, form?: Record<string, string>) =>
    page.request.post(`${l.base ?? ""}/api/admin/${fn}`, { headers: FROM_OUR_PAGES, form });
  const reachable = await (await api("repositories/reachable")).json();
  const github = reachable.find((r: { full_name: string }) => r.full_name === l.fullName);
  expect(github, `${l.fullName} is not reachable`).toBeTruthy();
  if (!github.already_added) {
    const added = await api("repositories/add", { github_id: String(github.github_id) });
    expect(added.ok(), await added.text()).toBeTruthy();
  }
  const listed = await (await api("repositories/list")).json();
  const id = String(listed.find((r: { full_name: string }) => r.full_name === l.fullName).id);
  const saved = await api("repositories/save", { id, slug: l.slug, title: l.title, summary: l.summary ?? "", description: l.description ?? "" });
  expect(saved.ok(), await saved.text()).toBeTruthy();
  const repo = await (await api("repositories/get", { id })).json();
  if (repo.prices.length === 0) {
    for (const price of l.prices) {
      // The form's fields are named price[…] (one struct on the server).
      const fields = { currency: "usd", permission: "pull", trial_days: "0", ...price };
      const form = Object.fromEntries(Object.entries(fields).map(([k, v]) => [`price[${k}]`, v]));
      const added = await api("prices/add", { repository_id: id, ...form });
      expect(added.ok(), await added.text()).toBeTruthy();
    }
  }
  // An archived page (see takeOffSale) comes back unpublished first, as the editor's "Restore" does.
  if (repo.status === "archived") await api("repositories/status", { id, status: "unpublished" });
  const published = await api("repositories/status", { id, status: "published" });
  expect(published.ok(), await published.text()).toBeTruthy();
  return id;
}

/** The creator puts sandbox-org/enterprise-sdk on sale at $9/month. */
export async function putOnSale(page: import("@playwright/test").Page): Promise<string> {
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, {
    fullName: "sandbox-org/enterprise-sdk",
    slug: "enterprise-sdk",
    title: "Enterprise SDK",
    summary: "The SDK, with support",
    description: "## What you get\n\nThe **whole** SDK.",
    prices: [{ interval: "month", amount: "9" }],
  });
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
export async function signOut(page: import("@playwright/test").Page) {
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
}

/** No WCAG 2.1 A/AA violation axe-core finds, in light and in dark, and
 *  nothing wider than the window. */
export async function accessible(page: Page, what: string) {
  await hydrated(page);
  for (const theme of ["light", "dark"] as const) {
    await page.evaluate((dark) => document.documentElement.classList.toggle("dark", dark), theme === "dark");
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const found = results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} ${n.failureSummary ?? ""}`).join(" | ")}`,
    );
    expect.soft(found, `${what}, ${theme}`).toEqual([]);
  }
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
  // Against the window's set width: a phone browser widens its viewport to the content.
  const scrolled = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  expect.soft(scrolled, `${what} scrolls sideways`).toBeLessThanOrEqual(page.viewportSize()!.width);
}
