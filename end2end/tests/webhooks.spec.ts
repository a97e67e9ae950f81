import { test, expect, hydrated, accessible } from "./fixtures";

// Outgoing webhooks (issue 23): the creator adds an endpoint pointing at the
// sandbox's request bin, sees its secret once, sends a test event and sees
// the delivery in the log — then the bin, given the secret, shows the
// signature verified.

test("the creator adds an endpoint, sends a test event and sees the delivery", async ({ page }) => {
  const bin = `e2e-${Date.now()}`;
  await page.goto("/auth/github?next=/admin/settings");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  await hydrated(page);
  await page.getByRole("link", { name: "Webhooks →" }).click();
  await expect(page).toHaveURL(/\/admin\/settings\/webhooks$/);
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();

  const binUrl = (await page.getByTestId("request-bin-url").textContent())!.replace(/default$/, bin);
  const form = page.getByTestId("add-endpoint");
  await form.getByLabel("Endpoint URL").fill(binUrl);
  await form.getByLabel("Description (optional)").fill("licence server");
  await form.getByRole("checkbox", { name: /purchase\.paid/ }).check();
  await form.getByRole("checkbox", { name: /purchase\.revoked/ }).check();
  await form.getByRole("button", { name: "Add endpoint" }).click();

  const secret = page.getByTestId("signing-secret");
  await expect(secret).toHaveText(/^whsec_[A-Za-z0-9+/=]{40,}$/);
  const endpoint = page.getByTestId("endpoint").filter({ hasText: binUrl });
  await expect(endpoint).toContainText("Events: purchase.paid, purchase.revoked");
  await expect(endpoint.getByText("Nothing sent yet.")).toBeVisible();

  await endpoint.getByRole("button", { name: "Send test event" }).click();
  const delivery = endpoint.getByTestId("delivery").first();
  await expect(delivery).toHaveAttribute("data-event", "test");
  await expect(delivery).toHaveAttribute("data-state", "delivered", { timeout: 15_000 });
  await expect(delivery.getByTestId("last-attempt")).toContainText("HTTP 200");
  await delivery.locator("summary").click();
  await expect(delivery.getByText("Request body")).toBeVisible();
  await expect(delivery.locator("pre").first()).toContainText('"type":"test"');
  await accessible(page, "webhooks page with a delivery");

  // The secret handed to the bin: it checks the signature itself.
  await page.getByRole("button", { name: "Check signatures in the request bin" }).click();
  await expect(page).toHaveURL(new RegExp(`/sandbox/requests\\?bin=${bin}$`));
  const received = page.getByTestId("bin-request");
  await expect(received).toHaveCount(1);
  await expect(received.getByTestId("signature")).toHaveText("Signature verified");

  // Tidy: the journeys share one server.
  await page.goto("/admin/settings/webhooks");
  await hydrated(page);
  const again = page.getByTestId("endpoint").filter({ hasText: binUrl });
  await again.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByTestId("endpoint").filter({ hasText: binUrl })).toHaveCount(0);
});
