import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, hydrated, FROM_OUR_PAGES, list, signOut } from "./fixtures";

// What a purchase says at each step when it is not a plain card payment: a
// free trial, and a bank debit that takes days. And the email the product
// page promises, with the link to accept.

/** A new repository on the sandbox's GitHub, on sale with `prices`; returns its slug and admin id. */
async function onSale(page: Page, request: APIRequestContext, prices: Record<string, string>[]) {
  const name = `words-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, { fullName: `sandbox-creator/${name}`, slug: name, title: "Words Kit", description: "A kit.", prices });
  await signOut(page);
  return { slug: name, id };
}

async function newBuyer(request: APIRequestContext, prefix: string) {
  const login = `${prefix}-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login } })).ok()).toBeTruthy();
  return login;
}

/** Fills the buy form for `login`, choosing the price whose words include `choice`. */
async function buy(page: Page, slug: string, login: string, choice: string) {
  await page.goto(`/p/${slug}`);
  await hydrated(page);
  await page.getByTestId("price-option").filter({ hasText: choice }).locator("input").check();
  await page.getByLabel("GitHub username").fill(login);
  await expect(page.getByTestId("github-user")).toContainText(`@${login}`);
  await page.getByLabel("Email").fill(`${login}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);
}

/** The sandbox's mailbox for `to`, once a message with `subject` has arrived. */
async function mailFor(page: Page, to: string, subject: string) {
  await expect(async () => {
    await page.goto(`/sandbox/mailbox?to=${to}`);
    await expect(page.getByTestId("mail").filter({ hasText: subject })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  return page.getByTestId("mail").filter({ hasText: subject });
}

test("a free trial is called a trial, everywhere the purchase is shown", async ({ page, request }) => {
  const { slug, id } = await onSale(page, request, [{ interval: "month", amount: "19", trial_days: "14" }]);
  const login = await newBuyer(request, "trial");

  await buy(page, slug, login, "$19.00 / month");
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByTestId("paid-words")).toHaveText("Trial started — nothing is charged until it ends");
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");

  // The email the product page promises: where to accept, and the way back.
  const mail = await mailFor(page, `${login}@example.com`, "Your access to Words Kit is on its way");
  await expect(mail).toContainText(`GitHub has invited @${login} to the private repository sandbox-creator/${slug}`);
  await expect(mail.getByTestId("mail-link").filter({ hasText: "/invitations" })).toBeVisible();
  await expect(mail).toContainText("/account");

  // The customer's page.
  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${login}`, exact: true }).click();
  await expect(page.getByTestId("purchase")).toContainText("14-day trial, then $19.00 / month");
  await expect(page.getByTestId("purchase")).not.toContainText("$0.00");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });

  // The creator's customers table.
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await page.goto(`/admin/customers?q=${login}`);
  const row = page.locator(`[data-login="${login}"]`);
  await expect(row).toContainText("14-day trial, then $19.00 / month");
  await expect(row).not.toContainText("$0.00");

  await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "archived" } });
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
});

test("a bank debit says it takes days and that an email will follow", async ({ page, request }) => {
  const { slug, id } = await onSale(page, request, [{ interval: "one_time", amount: "49" }]);
  const login = await newBuyer(request, "debit");

  await buy(page, slug, login, "$49.00");
  await page.getByRole("button", { name: "Pay by bank debit (settles later)" }).click();
  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/);
  const session = new URL(page.url()).searchParams.get("session_id");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Thank you! Your payment is on its way");
  await expect(page.getByTestId("paid-words")).toContainText("it can take a few business days");
  await expect(page.getByTestId("payment-on-its-way")).toContainText("we will email you");
  await expect(page.getByTestId("step-paid")).toHaveAttribute("data-done", "false");

  // Days later the bank pays: the promised email arrives.
  expect((await request.post(`/sandbox/control/stripe/checkout/${session}/settle`, { data: { succeed: true } })).ok()).toBeTruthy();
  const mail = await mailFor(page, `${login}@example.com`, "Your access to Words Kit is on its way");
  await expect(mail).toContainText(`@${login}`);

  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "archived" } });
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });
});
