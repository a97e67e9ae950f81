import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, hydrated, list, signOut, takeOffSale } from "./fixtures";

// A team purchase in a browser: a company's admin buys three seats of a
// per-seat monthly price, hands them out on /account, takes one back,
// adds a fourth seat (charged now), lowers to two for the next renewal;
// a holder sees their seat but no seat management.

async function user(request: APIRequestContext, login: string) {
  expect((await request.post("/sandbox/control/github/users", { data: { login } })).ok()).toBeTruthy();
}

async function signInCustomer(page: Page, login: string) {
  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${login}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
}

async function giveSeat(page: Page, login: string) {
  const form = page.getByTestId("give-seat");
  await form.getByLabel("Give a seat to (GitHub username)").fill(login);
  await form.getByRole("button", { name: "Give a seat" }).click();
  await expect(page.getByTestId("notice")).toContainText(`@${login} has a seat`);
  await expect(page.locator(`[data-testid="holder"][data-login="${login}"]`)).toBeVisible();
}

test("a team's manager hands out, takes back, adds and lowers seats", async ({ page, request }) => {
  test.setTimeout(120_000);
  const stamp = Date.now();
  const repo = `team-kit-${stamp}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name: repo } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, {
    fullName: `sandbox-creator/${repo}`,
    slug: repo,
    title: "Team Kit",
    prices: [{ interval: "month", amount: "9", sold: "per_seat", seats_min: "1", seats_max: "10" }],
  });
  await signOut(page);
  try {
    await journey(page, request, repo, stamp);
  } finally {
    // Off the storefront again, whatever happened (other journeys expect it empty).
    await takeOffSale(page, id);
  }
});

async function journey(page: Page, request: APIRequestContext, repo: string, stamp: number) {
  // The buyer picks three seats and does not take one.
  // Logins no other journey's "Sign in as …" button starts with.
  const [manager, alice, bob, carol] = ["admin", "alice", "bob", "carol"].map((n) => `team${stamp}-${n}`);
  for (const login of [manager, alice, bob, carol]) await user(request, login);
  await page.goto(`/p/${repo}`);
  await hydrated(page);
  await expect(page.getByTestId("price-option")).toContainText("$9.00 / month per seat");
  await page.getByLabel("Seats", { exact: true }).fill("3");
  await page.getByLabel("I use one of the seats myself").uncheck();
  await page.getByLabel("Your GitHub username (you manage the seats)").fill(manager);
  await expect(page.getByTestId("github-user")).toContainText(`@${manager}`);
  await page.getByLabel("Email").fill(`${manager}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await expect(page.getByTestId("checkout-quantity")).toHaveText("3 ×");
  await expect(page.getByTestId("checkout-amount")).toContainText("27.00 USD");
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByTestId("step-paid")).toHaveAttribute("data-done", "true");

  // On /account: the team, its seats, nobody holding one yet.
  await signInCustomer(page, manager);
  await expect(page.getByTestId("purchase-status")).toContainText("Team purchase: 3 seats, 0 in use");
  await expect(page.getByTestId("seat-counts")).toHaveText("0 of 3 seats in use, 3 free");
  for (const login of [alice, bob, manager]) await giveSeat(page, login);
  await expect(page.getByTestId("seat-counts")).toHaveText("3 of 3 seats in use, 0 free");
  await expect(page.getByTestId("give-seat").getByRole("button", { name: "Give a seat" })).toBeDisabled();

  // Bob leaves.
  await page.locator(`[data-testid="holder"][data-login="${bob}"]`).getByRole("button", { name: "Take seat back" }).click();
  await expect(page.getByTestId("notice")).toContainText(`@${bob}'s seat is free again`);
  await expect(page.locator(`[data-testid="holder"][data-login="${bob}"]`)).toHaveCount(0);
  const state = await (await request.get("/sandbox/control/github/state")).json();
  const onGithub = state.repositories.find((r: { full_name: string }) => r.full_name === `sandbox-creator/${repo}`);
  const logins = [...onGithub.invitations, ...onGithub.collaborators].map((c: { login: string }) => c.login);
  expect(logins).toContain(alice);
  expect(logins).not.toContain(bob);

  // A fourth seat now; then two from the next renewal (three hold one: asked to choose).
  const change = page.getByTestId("change-seats");
  await change.getByLabel("Number of seats").fill("4");
  await change.getByRole("button", { name: "Change seats" }).click();
  await expect(page.getByTestId("notice")).toContainText("now has 4 seats");
  await giveSeat(page, carol);
  await change.getByLabel("Number of seats").fill("2");
  await change.getByRole("button", { name: "Change seats" }).click();
  await expect(page.getByTestId("notice")).toContainText("take 1 back before then");
  await expect(page.getByTestId("seat-counts")).toContainText("2 seats from the renewal on");

  // A holder sees their seat and whose it is, and no seat management.
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: { "sec-fetch-site": "same-origin" } });
  await signInCustomer(page, alice);
  await expect(page.getByTestId("seat-of")).toContainText(`@${manager}'s team purchase`);
  await expect(page.getByTestId("team")).toHaveCount(0);
  await signOut(page);
}
