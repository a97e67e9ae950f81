import { test, expect, hydrated, putOnSale, takeOffSale, FROM_OUR_PAGES } from "./fixtures";

// The customer's side: after buying, sign in at /account with GitHub, resend
// the invitation, move access to another account, cancel in the billing
// portal and see when access ends; then sign in again by email link.
test("a customer manages their purchase at /account", async ({ page, request, expectRefusals }) => {
  const id = await putOnSale(page);
  // Fresh sandbox accounts, so the test can run again on the same instance.
  const buyer = `buyer-${Date.now()}`;
  const second = `${buyer}-work`;
  for (const login of [buyer, second]) {
    expect((await request.post("/sandbox/control/github/users", { data: { login } })).ok()).toBeTruthy();
  }

  // Buy for the first account.
  await page.goto("/p/enterprise-sdk");
  await hydrated(page);
  await page.getByLabel("GitHub username").fill(buyer);
  await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");

  // Sign in at /account through the sandbox's GitHub.
  await page.getByRole("link", { name: "My purchases" }).click();
  await expect(page.getByRole("heading", { name: "Your purchases" })).toBeVisible();
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("signed-in-as")).toContainText(`@${buyer}`);
  const card = page.getByTestId("purchase");
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId("purchase-status")).toHaveText("Invitation sent — accept it on GitHub");
  await expect(card.getByTestId("purchase-when")).toContainText("Renews on");
  await expect(card.getByTestId("accept-link")).toBeVisible();
  await hydrated(page);

  // Resend: a new invitation replaces the old one.
  await card.getByRole("button", { name: "Resend invitation" }).click();
  await expect(page.getByTestId("notice")).toContainText("A new invitation to sandbox-org/enterprise-sdk is on its way");
  // Three a day: the fourth is refused, and the earlier "on its way" goes with it.
  for (let i = 0; i < 2; i++) {
    const answered = page.waitForResponse((r) => r.url().includes("/api/account/resend"));
    await card.getByRole("button", { name: "Resend invitation" }).click();
    expect((await answered).status()).toBe(200);
  }
  expectRefusals(1);
  await card.getByRole("button", { name: "Resend invitation" }).click();
  await expect(card.getByRole("alert")).toContainText("resent 3 times today");
  await expect(page.getByTestId("notice")).toHaveCount(0);

  // Move access to the second account.
  await card.getByText("Move access to another GitHub account").click();
  await card.getByLabel("New GitHub username").fill(second);
  // Asked first, saying what it does: the button does nothing until confirmed.
  const confirm = card.getByTestId("move-confirm");
  await expect(card.getByTestId("move")).toContainText(`@${buyer} loses access now, and access can move again only in 30 days`);
  await card.getByRole("button", { name: "Move access" }).click();
  expect(await confirm.evaluate((e) => (e as HTMLInputElement).validity.valueMissing)).toBe(true);
  await expect(card.getByTestId("purchase-login")).toHaveText(`@${buyer}`);
  await confirm.check();
  await card.getByRole("button", { name: "Move access" }).click();
  await expect(page.getByTestId("notice")).toContainText("Access to sandbox-org/enterprise-sdk moved");
  await expect(card.getByTestId("purchase-login")).toHaveText(`@${second}`);
  await expect(card.getByText("it can move again on")).toBeVisible();

  // The creator's feed keeps the past as it happened: the payment was @buyer's.
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const feed = page.getByTestId("activity");
  await expect(feed).toContainText(`@${buyer} paid for Enterprise SDK`);
  await expect(feed).toContainText(`Access to Enterprise SDK moved to @${second}`);
  await expect(feed).not.toContainText(`@${second} paid for Enterprise SDK`);

  // The sandbox's GitHub shows the change: the second account is invited, the first is not.
  await page.goto("/sandbox/github/sandbox-org/enterprise-sdk/invitations");
  await expect(page.locator(`[data-invitee="${second}"]`)).toBeVisible();
  await expect(page.locator(`[data-invitee="${buyer}"]`)).toHaveCount(0);

  // The billing portal: cancel, come back, and see when access ends.
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("purchase").getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/sandbox\/stripe\/portal\/bps_/);
  await page.getByRole("button", { name: "Cancel subscription" }).click();
  await expect(page.getByTestId("portal-status")).toContainText("Cancels on");
  await page.getByRole("link", { name: "← Return to RepoPass" }).click();
  await expect(page).toHaveURL(/\/account$/);
  // Stripe tells RepoPass by webhook; the page shows it once it has arrived.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("purchase-when")).toContainText("Ends on", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("purchase-when")).toContainText("it will not renew");
  // The end date is said once, not in the headline and again below it.
  await expect(page.getByTestId("purchase").getByText(/Ends on/)).toHaveCount(1);

  // Signed out, the purchase email is another way in: a one-time link,
  // which the sandbox's mailbox shows (no SMTP in zero-config mode).
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto("/account");
  await hydrated(page);
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByTestId("link-sent")).toContainText("If a purchase was made with this address");
  await expect(async () => {
    await page.goto(`/sandbox/mailbox?to=${buyer}@example.com`);
    await expect(page.getByTestId("mail-link").first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await page.getByTestId("mail-link").first().click();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("signed-in-as")).toContainText(`${buyer}@example.com`);
  await expect(page.getByTestId("purchase-login")).toHaveText(`@${second}`);

  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
  await takeOffSale(page, id);
});
