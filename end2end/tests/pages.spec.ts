import { test, expect, accessible, putOnSale, takeOffSale, FROM_OUR_PAGES } from "./fixtures";

// Every page RepoPass serves, in light and in dark: no violation of WCAG 2.1
// AA that axe-core finds, and nothing wider than the screen (the phone
// project looks at 360 px, the narrowest phone in common use).
test.beforeEach(async ({ page }, info) => {
  if (info.project.name === "phone") await page.setViewportSize({ width: 360, height: 740 });
});

const check = accessible;

test("every page is accessible in both themes and fits the screen", async ({ page, request, expectRefusals }) => {
  test.setTimeout(120_000);
  const id = await putOnSale(page);
  const buyer = `a11y-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();

  // The buyer's pages.
  await page.goto("/");
  await check(page, "storefront");
  await page.goto("/p/enterprise-sdk");
  await check(page, "product page");
  await page.goto("/p/enterprise-sdk?checkout=cancelled");
  await check(page, "product page after a cancelled checkout");
  const started = await page.request.post("/api/checkout", {
    headers: { accept: "text/html", ...FROM_OUR_PAGES },
    form: { price_id: (await page.locator('input[name="price_id"]').first().getAttribute("value")) ?? "", github_username: buyer, email: `${buyer}@example.com` },
    maxRedirects: 0,
  });
  expect(started.status()).toBe(303);
  await page.goto(started.headers()["location"]);
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");
  await check(page, "checkout success");
  await page.goto("/account");
  await check(page, "account, signed out");
  expectRefusals(1); // the 404 page's own status
  await page.goto("/no/such/page");
  await check(page, "not found");

  // Signed in as the buyer.
  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page.getByTestId("purchase")).toHaveCount(1);
  await check(page, "account, signed in");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });

  // The creator's pages.
  expectRefusals(1); // the sign-in prompt is a 401
  await page.goto("/admin");
  await check(page, "admin sign-in");
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await check(page, "dashboard");
  await page.goto("/admin/customers");
  await check(page, "customers");
  await page.goto(`/admin/customers?q=${buyer}`);
  await page.getByRole("link", { name: `@${buyer}` }).click();
  await expect(page.getByTestId("admin-purchase")).toBeVisible();
  await check(page, "customer");
  await page.goto("/admin/events");
  await check(page, "events");
  await page.getByRole("link", { name: "checkout.session.completed" }).first().click();
  await expect(page.getByTestId("payload")).toBeVisible();
  await check(page, "event");
  await page.goto("/admin/repositories");
  await check(page, "repositories");
  await page.goto(`/admin/repositories/${id}`);
  await check(page, "repository editor");
  await page.goto("/admin/settings");
  await check(page, "settings");
  await page.getByRole("button", { name: "Run the checks" }).click();
  await expect(page.getByTestId("check")).toHaveCount(9);
  await check(page, "settings, with the checks' results");
  await page.goto("/admin/settings/alerts");
  await check(page, "alerts and backups");
  await page.goto("/admin/api-keys");
  await check(page, "API keys");
  await page.goto("/sandbox");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });

  // Someone signed in who is not an admin (a 403).
  expectRefusals(1);
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as alice" }).click();
  await expect(page.getByTestId("not-admin")).toBeVisible();
  await check(page, "not an admin");
  await page.request.post("/auth/logout", { headers: FROM_OUR_PAGES });

  await takeOffSale(page, id);
});
