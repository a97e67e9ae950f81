import { test, expect } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

// The sandbox's Stripe key (public by design: it opens nothing real).
const STRIPE_KEY = "sk_test_repopass_sandbox";

/** Calls the sandbox's Stripe API as async-stripe does: form-encoded, bearer key. */
async function stripe(request: APIRequestContext, path: string, form: Record<string, string>) {
  const response = await request.post(`/sandbox/stripe/v1${path}`, {
    headers: { Authorization: `Bearer ${STRIPE_KEY}` },
    form,
  });
  expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

async function monthlyPrice(request: APIRequestContext) {
  const product = await stripe(request, "/products", { name: "acme/pro-kit" });
  return stripe(request, "/prices", {
    product: product.id,
    currency: "usd",
    unit_amount: "900",
    "recurring[interval]": "month",
    nickname: "Pro Kit monthly",
  });
}

test("a buyer pays on the sandbox checkout page, then cancels in the billing portal", async ({ page, request, baseURL }) => {
  const price = await monthlyPrice(request);
  const session = await stripe(request, "/checkout/sessions", {
    mode: "subscription",
    "line_items[0][price]": price.id,
    "line_items[0][quantity]": "1",
    customer_email: `buyer-${Date.now()}@example.com`,
    success_url: `${baseURL}/sandbox?paid={CHECKOUT_SESSION_ID}`,
    cancel_url: `${baseURL}/`,
  });

  await page.goto(session.url);
  await expect(page.getByTestId("sandbox-banner")).toBeVisible();
  await expect(page.getByTestId("checkout-amount")).toContainText("9.00 USD");

  // A declined card keeps the buyer on the page with a message.
  await page.getByRole("button", { name: "Try a card that is declined" }).click();
  await expect(page.getByRole("alert")).toContainText("Your card was declined");

  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page).toHaveURL(new RegExp(`/sandbox\\?paid=${session.id}$`));
  // The console now shows the subscription and its payment.
  const paid = await request.get(`/sandbox/stripe/v1/checkout/sessions/${session.id}`, {
    headers: { Authorization: `Bearer ${STRIPE_KEY}` },
  });
  const completed = await paid.json();
  expect(completed.payment_status).toBe("paid");
  const subscription = page.locator(`[data-subscription="${completed.subscription}"]`);
  await expect(subscription.getByTestId("subscription-status")).toHaveText("active");

  const portal = await stripe(request, "/billing_portal/sessions", { customer: completed.customer, return_url: `${baseURL}/` });
  await page.goto(portal.url);
  await expect(page.getByRole("heading", { name: "Billing" })).toBeVisible();
  await expect(page.getByTestId("portal-status")).toContainText("renews on");
  await page.getByRole("button", { name: "Cancel subscription" }).click();
  await expect(page.getByTestId("portal-status")).toContainText("Cancels on");
  await page.getByRole("button", { name: "Don't cancel" }).click();
  await expect(page.getByTestId("portal-status")).toContainText("renews on");
  await page.getByRole("link", { name: "← Return to RepoPass" }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
});

test("the console renews, fails and refunds a subscription", async ({ page, request, baseURL }) => {
  const price = await monthlyPrice(request);
  const session = await stripe(request, "/checkout/sessions", {
    mode: "subscription",
    "line_items[0][price]": price.id,
    customer_email: `console-${Date.now()}@example.com`,
    success_url: `${baseURL}/sandbox`,
  });
  const paid = await request.post(`/sandbox/control/stripe/checkout/${session.id}/pay`, { data: {} });
  const { subscription: sub } = await paid.json();

  await page.goto("/sandbox");
  const row = page.locator(`[data-subscription="${sub}"]`);
  await row.getByRole("button", { name: "Fail next payment" }).click();
  await expect(row).toContainText("next payment will fail");
  await page.locator(`[data-subscription="${sub}"]`).getByRole("button", { name: "Renew now" }).click();
  await expect(page.locator(`[data-subscription="${sub}"]`).getByTestId("subscription-status")).toHaveText("past_due");
  await page.locator(`[data-subscription="${sub}"]`).getByRole("button", { name: "Renew now" }).click();
  await expect(page.locator(`[data-subscription="${sub}"]`).getByTestId("subscription-status")).toHaveText("active");

  const charge = page.locator("[data-charge]").first();
  await charge.getByRole("button", { name: "Refund in full" }).click();
  await expect(page.locator("[data-charge]").first()).toContainText("refunded 9.00 USD");
  await expect(page.locator('[data-delivery="charge.refunded"]').first()).toBeVisible();
});
