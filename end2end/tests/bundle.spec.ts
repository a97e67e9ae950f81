import { test, expect, hydrated } from "./fixtures";

const wasmPaths = (page: import("@playwright/test").Page) => {
  const seen: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) seen.push(path);
  });
  return seen;
};

// The bundle is split (cargo leptos --split; `CreatorPages` and
// `CustomerPages` in app/src/shell.rs): a buyer on the storefront downloads
// the main wasm only; the customer's and the creator's pages bring their own
// code when they are opened, a few files named up front, not a trickle.
test("a buyer downloads only the main wasm; other pages load their chunk when opened", async ({ page }) => {
  const wasm = wasmPaths(page);
  await page.goto("/");
  await hydrated(page);
  const main = await page.locator('link[rel="preload"][as="fetch"]').first().getAttribute("href");
  expect(main).toMatch(/^\/assets\/[0-9a-f]{16}\/pkg\/[^/]+\.wasm$/);
  expect(wasm).toEqual([main]);

  // Within the page (no reload): the account page's code arrives now.
  await page.getByRole("link", { name: "My purchases" }).click();
  await expect(page.getByRole("heading", { name: "Your purchases" })).toBeVisible();
  await expect.poll(() => wasm.length).toBeGreaterThan(1);
  expect(wasm.slice(1).every((p) => p !== main && p.startsWith(main!.slice(0, main!.lastIndexOf("/"))))).toBe(true);

  // Opened directly, the page names its chunk for preloading and hydrates.
  await page.goto("/account");
  await hydrated(page);
  const preloads = await page
    .locator('link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => l.getAttribute("href")));
  expect(preloads).toContain(main);
  const own = preloads.filter((href) => href !== main && href?.endsWith(".wasm"));
  expect(own.length).toBeGreaterThan(0);
  expect(own.length).toBeLessThanOrEqual(3);
  await expect(page.getByRole("heading", { name: "Your purchases" })).toBeVisible();
});
