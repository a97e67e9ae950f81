import { test as base, expect } from "@playwright/test";

// Control: with the wasm blocked the page still renders (server-side), but
// the interactive parts do nothing. This proves the storefront test above
// really exercises hydration.
base("without the wasm the page renders but does not hydrate", async ({ page }) => {
  await page.route("**/*.wasm", (route) => route.abort());
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Private repositories for sale" })).toBeVisible();
  await expect(page.getByTestId("empty-store")).toBeVisible();
  const toggle = page.getByTestId("theme-toggle");
  await toggle.click();
  await page.waitForLoadState("networkidle");
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await expect(page.locator("html")).not.toHaveClass(/\bdark\b/);
});
