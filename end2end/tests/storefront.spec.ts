import { test, expect, hydrated } from "./fixtures";

// The empty store is checked on a new deployment (production.spec.ts): by
// the time this runs, other specs have put repositories on sale here.
test("the storefront renders and hydrates", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("RepoPass");
  await expect(page.getByRole("heading", { name: "Private repositories for sale" })).toBeVisible();

  // The first Tab offers a way past the header.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();

  // The theme switch only works once the wasm has hydrated the page.
  const toggle = page.getByTestId("theme-toggle");
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await hydrated(page);
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await expect(toggle).toContainText("Dark");

  // The choice survives a reload.
  await page.reload();
  await hydrated(page);
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).not.toHaveClass(/\bdark\b/);
});

test("styles are served and applied", async ({ page }) => {
  await page.goto("/");
  const css = await page.request.get("/pkg/repopass.css");
  expect(css.status()).toBe(200);
  expect(await css.text()).toContain("--color-indigo-600");
  // The page links its files by content: compressed, and cached for good.
  const href = await page.locator('link[rel="stylesheet"]').first().getAttribute("href");
  expect(href).toMatch(/^\/assets\/[0-9a-f]{16}\/pkg\/repopass\.css$/);
  await expect(async () => {
    const versioned = await page.request.get(href!, { headers: { "accept-encoding": "br, gzip" } });
    expect(versioned.headers()["content-encoding"]).toBe("br");
    expect(versioned.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  }).toPass({ timeout: 20_000 });
  // bg-slate-50 on <body>: Tailwind's output really reached the page.
  const background = await page.locator("body").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).not.toBe("rgba(0, 0, 0, 0)");
});

test("unknown pages get a 404 with a way back", async ({ page, consoleErrors }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  // Chromium reports the document's own 404 status as a console error; that one is expected.
  const expected = consoleErrors.findIndex((e) => e.includes("status of 404"));
  if (expected >= 0) consoleErrors.splice(expected, 1);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Back to the store" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Private repositories for sale" })).toBeVisible();
});
