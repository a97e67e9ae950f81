import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, hydrated, list, signOut, takeOffSale } from "./fixtures";

// The pricing models beyond a fixed amount, in a browser: pay what you want
// for a year of access — the buyer names the amount on Stripe's page, sees
// when access ends, is warned a week before, and loses access at the end.

async function newBuyer(request: APIRequestContext) {
  const login = `year-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login } })).ok()).toBeTruthy();
  return login;
}

async function advance(request: APIRequestContext, days: number) {
  expect((await request.post("/sandbox/control/clock/advance", { data: { days } })).ok()).toBeTruthy();
}

/** The buyer's purchase card at /account, reloaded until `check` holds
 *  (the dated jobs run on RepoPass's schedule, within a minute of a move). */
async function untilCard(page: Page, check: (card: import("@playwright/test").Locator) => Promise<void>) {
  await expect(async () => {
    await page.goto("/account");
    await check(page.getByTestId("purchase"));
  }).toPass({ timeout: 120_000 });
}

test("pay what you want for 12 months: the amount is the buyer's, the end is shown, warned and kept", async ({ page, request }) => {
  test.setTimeout(300_000);
  const name = `yearly-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, {
    fullName: `sandbox-creator/${name}`,
    slug: name,
    title: "Yearly Kit",
    description: "Updates for a year.",
    prices: [{ interval: "one_time", amount: "5", pricing: "pay_what_you_want", suggested_amount: "15", access_days: "365" }],
  });
  await signOut(page);

  // The product page says what the buyer chooses and for how long.
  const buyer = await newBuyer(request);
  await page.goto(`/p/${name}`);
  await hydrated(page);
  const option = page.getByTestId("price-option");
  await expect(option).toContainText("Pay what you want: $15.00 suggested, at least $5.00");
  await expect(option).toContainText("12 months of access");
  await option.locator("input").check();
  await page.getByLabel("GitHub username").fill(buyer);
  await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);

  // Stripe's page starts at the suggestion and refuses less than the minimum.
  const amount = page.getByLabel("Amount (USD)");
  await expect(amount).toHaveValue("15.00");
  await expect(page.getByTestId("checkout-minimum")).toHaveText("At least $5.00");
  await amount.fill("4.99");
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByRole("alert")).toHaveText("Enter an amount of at least $5.00.");
  await page.getByLabel("Amount (USD)").fill("20");
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();

  // Paid 20, invited, and told until when.
  await expect(page.getByTestId("paid-words")).toHaveText("Payment confirmed");
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");
  await expect(page.getByTestId("access-until")).toHaveText(/^Your access lasts until \d{1,2} [A-Z][a-z]{2} \d{4}\.$/);

  await page.getByRole("link", { name: "My purchases" }).click();
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  const card = page.getByTestId("purchase");
  await expect(card).toContainText("$20.00");
  await expect(card.getByTestId("ending-soon")).toHaveCount(0);

  // A week before the end: an email and the same words on the page.
  await advance(request, 358);
  await untilCard(page, async (c) => {
    await expect(c.getByTestId("ending-soon")).toBeVisible({ timeout: 1_000 });
  });
  await expect(card.getByTestId("ending-soon")).toContainText("deletes your private forks");
  await expect(card.getByTestId("ending-soon").getByRole("link", { name: "Download the code (zip)" })).toHaveAttribute(
    "href",
    new RegExp(`/sandbox-creator/${name}/archive/HEAD\\.zip$`),
  );
  await expect(async () => {
    await page.goto(`/sandbox/mailbox?to=${buyer}@example.com`);
    await expect(page.getByTestId("mail").filter({ hasText: "Your access to Yearly Kit ends on" })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 120_000 });

  // After the end, access is gone, and the page says why.
  await advance(request, 8);
  await untilCard(page, async (c) => {
    await expect(c).toHaveAttribute("data-status", "revoked", { timeout: 1_000 });
  });
  // Off sale again: the journeys share one server, and others expect an empty store.
  await takeOffSale(page, id);
});

test("another period bought in the last week continues access without a break", async ({ page, request }) => {
  test.setTimeout(300_000);
  const name = `renewable-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, {
    fullName: `sandbox-creator/${name}`,
    slug: name,
    title: "Renewable Kit",
    prices: [{ interval: "one_time", amount: "30", access_days: "365" }],
  });
  await signOut(page);

  const buyer = await newBuyer(request);
  const buy = async () => {
    await page.goto(`/p/${name}`);
    await hydrated(page);
    await page.getByLabel("GitHub username").fill(buyer);
    await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
    await page.getByLabel("Email").fill(`${buyer}@example.com`);
    await page.getByRole("button", { name: "Continue to payment" }).click();
    await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
    await expect(page.getByTestId("paid-words")).toHaveText("Payment confirmed");
  };
  await buy();
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");
  const state = await (await request.get("/sandbox/control/github/state")).json();
  const repo = state.repositories.find((r: { full_name: string }) => r.full_name === `sandbox-creator/${name}`);
  const invitation = repo.invitations.find((i: { login: string }) => i.login === buyer);
  expect((await request.post(`/sandbox/control/github/invitations/${invitation.id}/accept`, { data: {} })).ok()).toBeTruthy();

  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  const card = page.getByTestId("purchase").first();
  await expect(card.getByTestId("renew")).toHaveCount(0);
  const firstEnd = (await card.getByTestId("purchase-when").textContent()) ?? "";

  // In the last week, the notice offers another period; bought now, it starts when this one ends.
  await advance(request, 360);
  await untilCard(page, async (c) => {
    await expect(c.first().getByTestId("renew")).toBeVisible({ timeout: 1_000 });
  });
  await card.getByTestId("renew").click();
  await expect(page).toHaveURL(new RegExp(`/p/${name}$`));
  await buy();
  await expect(page.getByTestId("step-active")).toHaveAttribute("data-done", "true");

  await page.goto("/account");
  const renewed = page.getByTestId("purchase").first();
  await expect(renewed).toHaveAttribute("data-status", "active");
  await expect(renewed.getByTestId("purchase-when")).not.toHaveText(firstEnd);
  await expect(renewed.getByTestId("ending-soon")).toHaveCount(0);
  await expect(page.getByTestId("purchase").nth(1).getByTestId("purchase-status")).toContainText("Renewed — another period was bought");
  await takeOffSale(page, id);
});
