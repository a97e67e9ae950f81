import { test, expect, hydrated, putOnSale, takeOffSale, FROM_OUR_PAGES } from "./fixtures";

// The creator's operational pages: the dashboard follows a purchase and a
// refund live (server-sent events, no reload); the customers table finds
// the buyer; revoking on the customer page removes them on GitHub.
test("the dashboard follows a purchase and a refund live; revoke from the customer page", async ({ page, context, request }) => {
  const id = await putOnSale(page);
  const buyer = `ops-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();

  // The creator opens the dashboard and leaves it open.
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  // Who is signed in, and the way out, on every admin page.
  await expect(page.getByTestId("admin-who")).toContainText("Signed in as @sandbox-creator");
  await expect(page.getByTestId("admin-who").getByRole("button", { name: "Sign out" })).toBeVisible();
  await hydrated(page);
  const activeBefore = Number(await page.getByTestId("stat-active").textContent());
  const refundsBefore = Number(await page.getByTestId("stat-refunds").textContent());
  await expect(page.getByTestId("revenue-chart").first().or(page.getByText("No payments yet"))).toBeVisible();

  // Meanwhile a buyer pays, in another tab.
  const shop = await context.newPage();
  const started = await shop.request.post("/api/checkout", {
    headers: { accept: "text/html", ...FROM_OUR_PAGES },
    form: { price_id: await priceId(shop), github_username: buyer, email: `${buyer}@example.com` },
    maxRedirects: 0,
  });
  expect(started.status()).toBe(303);
  await shop.goto(started.headers()["location"]);
  await shop.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(shop.getByTestId("step-invited")).toHaveAttribute("data-done", "true");

  // The dashboard shows it without a reload.
  const feed = page.getByTestId("activity");
  await expect(feed).toContainText(`@${buyer} was invited to Enterprise SDK`);
  await expect(page.getByTestId("stat-active")).toHaveText(String(activeBefore + 1));
  await expect(page.locator('[data-testid="revenue-chart"][data-currency="usd"]')).toBeVisible();

  // A checkout started and never paid is not a customer, unless asked for.
  const dropout = `dropout-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: dropout } })).ok()).toBeTruthy();
  const abandoned = await shop.request.post("/api/checkout", {
    headers: { accept: "text/html", ...FROM_OUR_PAGES },
    form: { price_id: await priceId(shop), github_username: dropout, email: `${dropout}@example.com` },
    maxRedirects: 0,
  });
  expect(abandoned.status()).toBe(303);
  await shop.goto(`/admin/customers?q=${dropout}`);
  await expect(shop.getByTestId("total")).toHaveText("0 purchases");
  await shop.goto(`/admin/customers?q=${dropout}&status=pending`);
  await expect(shop.getByTestId("total")).toHaveText("1 purchase");

  // Find the buyer in the customers table, open their page, refund.
  await shop.goto(`/admin/customers?q=${buyer}`);
  await expect(shop.getByTestId("total")).toHaveText("1 purchase");
  await shop.getByRole("link", { name: `@${buyer}` }).click();
  await expect(shop.getByRole("heading", { name: `@${buyer}` })).toBeVisible();
  await hydrated(shop);
  const purchase = shop.getByTestId("admin-purchase");
  // The history says who did what in words, not in ids.
  const timeline = shop.getByTestId("timeline");
  await expect(timeline).toContainText(`monthly subscription for @${buyer}`);
  await expect(timeline).toContainText("by Stripe");
  await expect(timeline).not.toContainText("evt_");
  await expect(timeline).not.toContainText("cs_test");
  await expect(timeline).not.toContainText("GitHub delivery");
  await purchase.getByText("Refund…").click();
  // More than was paid is refused in money, not in cents.
  await purchase.getByLabel(/^Amount in USD/).fill("100");
  await purchase.getByRole("button", { name: "Confirm refund" }).click();
  await expect(purchase.getByRole("alert")).toContainText("$100.00 is more than is left to refund of this payment ($9.00)");
  // Part of it first: the row says what was refunded, and the form closes, emptied.
  await purchase.getByLabel(/^Amount in USD/).fill("4");
  await purchase.getByRole("button", { name: "Confirm refund" }).click();
  await expect(shop.getByTestId("notice")).toContainText("Refunded $4.00");
  await expect(shop.getByTestId("refunded")).toHaveText("$4.00 refunded");
  await expect(purchase.getByLabel(/^Amount in USD/)).toBeHidden();
  await purchase.getByText("Refund…").click();
  await expect(purchase.getByLabel(/^Amount in USD/)).toHaveValue("");
  // Then the rest (an empty amount: all that is left). One payment refunded, in two goes.
  await purchase.getByRole("button", { name: "Confirm refund" }).click();
  await expect(shop.getByTestId("notice")).toContainText("Refunded $5.00");
  await expect(shop.getByTestId("refunded")).toHaveText("$9.00 refunded");
  await expect(timeline).toContainText("$5.00 refunded through Stripe ($9.00 in all)");
  await expect(page.getByTestId("stat-refunds")).toHaveText(String(refundsBefore + 1));
  await expect(feed).toContainText(`A refund for @${buyer} (Enterprise SDK) was requested`);

  // Revoke, with a reason (one is required): the history says so, and GitHub has no invitation left.
  await shop.getByTestId("admin-purchase").getByText("Revoke access…").click();
  await expect(shop.getByTestId("admin-purchase").getByLabel("Reason (shown in the history)")).toHaveAttribute("required", "");
  await shop.getByTestId("admin-purchase").getByLabel("Reason (shown in the history)").fill("end-to-end test");
  await shop.getByTestId("admin-purchase").getByRole("button", { name: "Confirm revoke" }).click();
  await expect(shop.getByTestId("notice")).toContainText("revoked");
  await expect(shop.getByTestId("admin-status")).toHaveText("revoked");
  await expect(shop.getByTestId("timeline").locator("li").first()).toContainText("end-to-end test");
  await expect(feed).toContainText(`@${buyer} lost access to Enterprise SDK: end-to-end test`);
  await shop.goto("/sandbox/github/sandbox-org/enterprise-sdk/invitations");
  await expect(shop.locator(`[data-invitee="${buyer}"]`)).toHaveCount(0);
  await shop.goto("/sandbox/github/sandbox-org/enterprise-sdk");
  await expect(shop.getByTestId("collaborators").locator(`[data-login="${buyer}"]`)).toHaveCount(0);

  // The events page lists what Stripe sent, with its payload.
  await shop.goto("/admin/events?provider=stripe&type=checkout.session.completed");
  await shop.getByRole("link", { name: "checkout.session.completed" }).first().click();
  await expect(shop.getByTestId("payload")).toContainText('"checkout.session.completed"');
  // What RepoPass ignores on purpose is a note, not an error.
  await shop.goto("/admin/events?status=ignored");
  await expect(shop.getByTestId("event-note").first()).toBeVisible();
  await expect(shop.getByTestId("event-error")).toHaveCount(0);

  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
  await takeOffSale(page, id);
});

/** The id of Enterprise SDK's price, from its product page. */
async function priceId(p: import("@playwright/test").Page): Promise<string> {
  await p.goto("/p/enterprise-sdk");
  return (await p.locator('input[name="price_id"]').first().getAttribute("value")) ?? "";
}
