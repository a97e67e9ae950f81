import { test, expect, hydrated, accessible } from "./fixtures";

// Alerts & backups (issue 25): the creator chooses who gets which alerts,
// takes a backup at once and sees it verified beside the daily ones.

test("the creator adds an alert recipient and backs up now", async ({ page }) => {
  const email = `ops-${Date.now()}@example.com`;
  await page.goto("/auth/github?next=/admin/settings");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  await hydrated(page);
  await page.getByRole("link", { name: "Alerts & backups →" }).click();
  await expect(page).toHaveURL(/\/admin\/settings\/alerts$/);
  await expect(page.getByRole("heading", { name: "Alerts & backups", level: 1 })).toBeVisible();
  await hydrated(page);

  // Only the critical ones for this address.
  const form = page.getByTestId("add-recipient");
  await form.getByLabel(/^Email address/).fill(email);
  await form.getByRole("checkbox", { name: "Many failed payments (warning)" }).uncheck();
  await form.getByRole("checkbox", { name: "Many cancellations (warning)" }).uncheck();
  await form.getByRole("checkbox", { name: "Access differs from what was paid for (warning)" }).uncheck();
  await form.getByRole("button", { name: "Save address" }).click();
  const recipient = page.getByTestId("recipient").filter({ hasText: email });
  await expect(recipient).toContainText("A job stopped retrying");
  await expect(recipient).toContainText("No recent backup");
  await expect(recipient).not.toContainText("Many failed payments");

  // A backup now: written, opened, checked.
  await page.getByRole("button", { name: "Back up now" }).click();
  await expect(page.getByTestId("backup-result")).toContainText("Backed up and verified", { timeout: 15_000 });
  await expect(page.getByTestId("backup-result")).toContainText("integrity ok");
  await expect(page.getByTestId("last-backup")).toContainText("Last verified backup:");
  await expect(page.getByTestId("backup").first()).toHaveAttribute("data-state", "verified");
  await accessible(page, "alerts and backups page");

  // Tidy: the journeys share one server.
  await recipient.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByTestId("recipient").filter({ hasText: email })).toHaveCount(0);
});
