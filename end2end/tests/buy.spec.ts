import { test, expect, hydrated, putOnSale, takeOffSale } from "./fixtures";

test("a buyer goes from the store to an invitation on GitHub", async ({ page, request, expectRefusals }) => {
  const id = await putOnSale(page);
  // A fresh sandbox account, so the suite can run again on the same instance.
  const buyer = `bob-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();

  await page.goto("/");
  await page.getByRole("link", { name: /Enterprise SDK/ }).click();
  await expect(page).toHaveURL(/\/p\/enterprise-sdk$/);
  await expect(page.getByRole("heading", { name: "Enterprise SDK", level: 1 })).toBeVisible();
  await expect(page.getByTestId("description").locator("strong")).toHaveText("whole");
  // Markdown is styled: a heading reads as one.
  const heading = page.getByTestId("description").locator("h2");
  await expect(heading).toHaveText("What you get");
  expect(await heading.evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThan(20);
  await expect(page.getByTestId("price-option")).toContainText("$9.00 / month");
  await expect(page.getByTestId("what-you-get")).toContainText("read access to the private GitHub repository sandbox-org/enterprise-sdk");
  await hydrated(page);

  // The username is checked against GitHub as it is typed.
  expectRefusals(3); // an organisation, an unknown user, and buying twice
  const username = page.getByLabel("GitHub username");
  await username.fill("sandbox-org");
  await expect(page.getByTestId("username-error")).toContainText("is a GitHub organization, not a person");
  // Said to screen readers too: the field is marked invalid and points at the reason.
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(username).toHaveAccessibleDescription(/is a GitHub organization, not a person/);
  await username.fill("no-such-user-here");
  await expect(page.getByTestId("username-error")).toContainText("There is no GitHub user called 'no-such-user-here'");
  await username.fill(buyer);
  await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
  await expect(page.getByTestId("github-user").locator("img")).toBeVisible();
  await expect(username).toHaveAttribute("aria-invalid", "false");
  // The check's outcome is announced (a live region).
  await expect(page.locator("#username-status")).toHaveAttribute("aria-live", "polite");
  await expect(username).toHaveAccessibleDescription(new RegExp(`@${buyer}`));
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
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

  // Accepting on the sandbox's GitHub, in a new tab, makes the buyer a collaborator;
  // this page keeps following and turns to "Access active" by itself.
  await hydrated(page);
  const [github] = await Promise.all([page.waitForEvent("popup"), accept.click()]);
  await github.locator(`[data-invitee="${buyer}"]`).getByRole("button", { name: `Accept invitation as @${buyer}` }).click();
  await expect(github.getByTestId("collaborators").locator(`[data-login="${buyer}"]`)).toBeVisible();
  await expect(page.getByTestId("step-active")).toHaveAttribute("data-done", "true", { timeout: 15_000 });
  await github.close();

  // Buying again for the same account: anyone else would be sent to pay
  // (saying "already has access" would reveal who bought); the buyer, signed in
  // with GitHub at /account, is told before paying.
  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/p/enterprise-sdk");
  await hydrated(page);
  await page.getByLabel("GitHub username").fill(buyer);
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  // (Accepting made the purchase active: GitHub told RepoPass through its member webhook.)
  await expect(page.getByRole("alert")).toContainText(`@${buyer} already has access to Enterprise SDK`);
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
    // Nothing typed is lost.
    await expect(page.getByLabel("GitHub username")).toHaveValue("sandbox-org");
    await expect(page.getByLabel("Email")).toHaveValue("carol@example.com");

    await page.getByLabel("GitHub username").fill("carol");
    await page.getByLabel("Email").fill("carol@example.com");
    await page.getByRole("button", { name: "Continue to payment" }).click();
    await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);
    await expect(page.getByTestId("checkout-amount")).toContainText("9.00 USD");

    await page.getByRole("link", { name: "Cancel and go back" }).click();
    await expect(page).toHaveURL(/\/p\/enterprise-sdk\?checkout=cancelled$/);
    await expect(page.getByTestId("checkout-cancelled")).toContainText("you have not been charged");
    // The form is as the buyer left it.
    await expect(page.getByLabel("GitHub username")).toHaveValue("carol");
    await expect(page.getByLabel("Email")).toHaveValue("carol@example.com");

    await takeOffSale(page, id);
    void browser;
  });
});

// On a slow connection the form is usable before the wasm arrives: a
// username typed then is checked as soon as the page becomes interactive.
test("a username typed before the page is interactive is checked once it is", async ({ page }) => {
  const id = await putOnSale(page);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/p/enterprise-sdk", { waitUntil: "domcontentloaded" });
  await page.getByLabel("GitHub username").fill("alice");
  release();
  await hydrated(page);
  await expect(page.getByTestId("github-user")).toContainText("@alice");
  await page.unroute("**/pkg/*.wasm");
  await takeOffSale(page, id);
});
