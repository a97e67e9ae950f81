import { test, expect, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

/** The creator puts sandbox-org/enterprise-sdk on sale at $9/month, through
 *  the admin panel's server functions (with the signed-in browser's cookies). */
async function putOnSale(page: Page): Promise<string> {
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const reachable = await (await page.request.post("/api/admin/repositories/reachable")).json();
  const sdk = reachable.find((r: { full_name: string }) => r.full_name === "sandbox-org/enterprise-sdk");
  if (!sdk.already_added) {
    await page.request.post("/api/admin/repositories/add", { form: { github_id: String(sdk.github_id) } });
  }
  const list = await (await page.request.post("/api/admin/repositories/list")).json();
  const id = String(list.find((r: { full_name: string }) => r.full_name === "sandbox-org/enterprise-sdk").id);
  await page.request.post("/api/admin/repositories/save", {
    form: { id, slug: "enterprise-sdk", title: "Enterprise SDK", summary: "The SDK, with support", description: "## What you get\n\nThe **whole** SDK." },
  });
  const repo = await (await page.request.post("/api/admin/repositories/get", { form: { id } })).json();
  if (repo.prices.length === 0) {
    const added = await page.request.post("/api/admin/prices/add", {
      form: { repository_id: id, interval: "month", amount: "9", currency: "usd", trial_days: "0", permission: "pull" },
    });
    expect(added.ok(), await added.text()).toBeTruthy();
  }
  await page.request.post("/api/admin/repositories/status", { form: { id, status: "published" } });
  await page.request.post("/auth/logout");
  return id;
}

/** Archives it again, so the storefront's empty-state test still holds. */
async function takeOffSale(page: Page, id: string) {
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await page.request.post("/api/admin/repositories/status", { form: { id, status: "archived" } });
  await page.request.post("/auth/logout");
}

test("a buyer goes from the store to an invitation on GitHub", async ({ page, expectRefusals }) => {
  const id = await putOnSale(page);

  await page.goto("/");
  await page.getByRole("link", { name: /Enterprise SDK/ }).click();
  await expect(page).toHaveURL(/\/p\/enterprise-sdk$/);
  await expect(page.getByRole("heading", { name: "Enterprise SDK", level: 1 })).toBeVisible();
  await expect(page.getByTestId("description").locator("strong")).toHaveText("whole");
  await expect(page.getByTestId("price-option")).toContainText("$9.00 / month");
  await expect(page.getByTestId("what-you-get")).toContainText("read access to the private GitHub repository sandbox-org/enterprise-sdk");
  await hydrated(page);

  // The username is checked against GitHub as it is typed.
  expectRefusals(3); // an organisation, an unknown user, and buying twice
  const username = page.getByLabel("GitHub username");
  await username.fill("sandbox-org");
  await expect(page.getByTestId("username-error")).toContainText("is a GitHub organization, not a person");
  await username.fill("no-such-user-here");
  await expect(page.getByTestId("username-error")).toContainText("There is no GitHub user called 'no-such-user-here'");
  await username.fill("bob");
  await expect(page.getByTestId("github-user")).toContainText("@bob");
  await expect(page.getByTestId("github-user").locator("img")).toBeVisible();
  await page.getByLabel("Email").fill("bob@example.com");
  await page.getByRole("button", { name: "Continue to payment" }).click();

  // The sandbox's hosted checkout.
  await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);
  await expect(page.getByTestId("checkout-amount")).toContainText("9.00 USD");
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();

  // Back on RepoPass: paid, invited, with the link to accept.
  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/);
  await expect(page.getByTestId("step-paid")).toHaveAttribute("data-done", "true");
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");
  const accept = page.getByTestId("accept-link");
  await expect(accept).toHaveAttribute("href", /\/sandbox\/github\/sandbox-org\/enterprise-sdk\/invitations$/);

  // Accepting on the sandbox's GitHub makes bob a collaborator.
  await accept.click();
  await page.locator('[data-invitee="bob"]').getByRole("button", { name: "Accept invitation as @bob" }).click();
  await expect(page.getByTestId("collaborators").locator('[data-login="bob"]')).toBeVisible();

  // Buying again for the same account is refused instead of charging twice.
  await page.goto("/p/enterprise-sdk");
  await hydrated(page);
  await page.getByLabel("GitHub username").fill("bob");
  await page.getByLabel("Email").fill("bob@example.com");
  await page.getByRole("button", { name: "Continue to payment" }).click();
  // (Accepting made the purchase active: GitHub told RepoPass through its member webhook.)
  await expect(page.getByRole("alert")).toContainText("@bob already has access to this repository");
  await expect(page).toHaveURL(/\/p\/enterprise-sdk$/);

  await takeOffSale(page, id);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the buy form posts to /api/checkout and reaches the sandbox checkout; cancelling comes back", async ({ page, browser }) => {
    // Setting up needs a normal browser (the sign-in page posts a form, which works without JS too).
    const id = await putOnSale(page);

    await page.goto("/p/enterprise-sdk");
    await page.getByLabel("GitHub username").fill("sandbox-org");
    await page.getByLabel("Email").fill("carol@example.com");
    await page.getByRole("button", { name: "Continue to payment" }).click();
    // Refused: back on the page with the reason.
    await expect(page).toHaveURL(/\/p\/enterprise-sdk/);
    await expect(page.getByRole("alert")).toContainText("not a person");

    await page.getByLabel("GitHub username").fill("carol");
    await page.getByLabel("Email").fill("carol@example.com");
    await page.getByRole("button", { name: "Continue to payment" }).click();
    await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);
    await expect(page.getByTestId("checkout-amount")).toContainText("9.00 USD");

    await page.getByRole("link", { name: "Cancel and go back" }).click();
    await expect(page).toHaveURL(/\/p\/enterprise-sdk\?checkout=cancelled$/);
    await expect(page.getByTestId("checkout-cancelled")).toContainText("you have not been charged");

    await takeOffSale(page, id);
    void browser;
  });
});
