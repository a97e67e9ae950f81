import { test, expect, hydrated, list, FROM_OUR_PAGES } from "./fixtures";

// Stripe Tax at checkout: off by default, turned on in Settings; Stripe's
// page then asks where the buyer is. (Every journey shares one server: tax
// is turned off again however this one ends.)

test("the creator turns on Stripe Tax and checkout asks for the buyer's country", async ({ page, request }) => {
  const name = `taxed-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
  const buyer = `vat-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const id = await list(page, { fullName: `sandbox-creator/${name}`, slug: name, title: "Taxed Kit", prices: [{ interval: "one_time", amount: "9" }] });

  await page.goto("/admin/settings");
  await hydrated(page);
  const form = page.getByTestId("stripe-tax");
  await expect(form.getByRole("checkbox")).not.toBeChecked();
  try {
    await form.getByRole("checkbox").check();
    await form.getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("Saved: Stripe calculates tax at checkout.")).toBeVisible();
    await expect(page.getByTestId("tax-behavior")).toHaveText("Stripe's setting: tax is added to your prices at checkout.");

    await page.goto(`/p/${name}`);
    await hydrated(page);
    await page.getByTestId("price-option").locator("input").check();
    await page.getByLabel("GitHub username").fill(buyer);
    await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
    await page.getByLabel("Email").fill(`${buyer}@example.com`);
    await page.getByRole("button", { name: "Continue to payment" }).click();
    await expect(page).toHaveURL(/\/sandbox\/stripe\/pay\//);
    await expect(page.getByTestId("checkout-tax")).toHaveText("Tax is calculated from your address.");
    await page.getByLabel("Country or region").selectOption("DE");
    await page.getByLabel("Tax ID (optional, for businesses)").fill("DE123456789");
    await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
    await expect(page.getByTestId("paid-words")).toHaveText("Payment confirmed");
    await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");
  } finally {
    // The journeys share one server: the others pay without tax, in a store with nothing on sale.
    const off = await page.request.post("/api/admin/settings/tax/save", { headers: FROM_OUR_PAGES, form: {} });
    expect(off.ok(), await off.text()).toBeTruthy();
    await page.request.post("/api/admin/repositories/status", { headers: FROM_OUR_PAGES, form: { id, status: "archived" } });
  }
});
