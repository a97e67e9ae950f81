import { test, expect, hydrated, FROM_OUR_PAGES } from "./fixtures";

// A real 1×1 PNG, for the cover upload.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGPwd3sKAAJiAXvBJn9xAAAAAElFTkSuQmCC", "base64");

// The browser suite runs against one fresh server: the first sign-in here
// makes sandbox-creator the owner.
test("the creator signs in through GitHub and sees what is connected", async ({ page, expectRefusals }) => {
  // Signed out, /admin answers 401 with the sign-in prompt.
  expectRefusals(1);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Creator sign-in" })).toBeVisible();
  await page.getByRole("link", { name: "Sign in with GitHub" }).click();

  // The sandbox's GitHub sign-in page.
  await expect(page.getByRole("heading", { name: "Sign in to GitHub" })).toBeVisible();
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();

  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Your RepoPass" })).toBeVisible();
  await hydrated(page);
  await page.getByRole("link", { name: /Settings/ }).click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  const repos = page.getByTestId("reachable-repositories");
  await expect(repos).toContainText("sandbox-creator/pro-kit");
  await expect(repos).toContainText("sandbox-org/enterprise-sdk");
  await expect(page.getByTestId("Stripe")).toContainText("no real money");

  // The doctor's checks, on request: what works, and the one thing to do where it does not.
  await page.getByRole("button", { name: "Run the checks" }).click();
  const checks = page.getByTestId("check");
  await expect(checks).toHaveCount(9);
  // The SQLite database's backups: the last one and its age, or none yet.
  await expect(page.locator('[data-area="backups"]')).toContainText("backup");
  // The sandbox made RepoPass's Stripe webhook endpoint as a real setup does.
  await expect(page.locator('[data-area="stripe webhook"]')).toHaveAttribute("data-level", "ok");
  await expect(page.locator('[data-area="stripe webhook"]')).toContainText("sends the 13 events RepoPass acts on");
  await expect(page.locator('[data-area="database"]')).toHaveAttribute("data-level", "ok");
  await expect(page.locator('[data-area="public address"]')).toHaveAttribute("data-level", "ok");
  await expect(page.locator('[data-area="stripe"]')).toContainText("the sandbox's Stripe");
  const email = page.locator('[data-area="email"]');
  await expect(email).toHaveAttribute("data-level", "warning");
  await expect(email).toContainText("→ set SMTP_URL");
});

test("the creator makes an API key, sees it once, and revokes it", async ({ page }) => {
  const name = `e2e-zapier-${Date.now()}`;
  await page.goto("/auth/github?next=/admin/api-keys");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page.getByRole("heading", { name: "API keys" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByTestId("new-api-key");
  await expect(shown).toHaveText(/^rp_[A-Za-z0-9]{40}$/);
  const row = page.locator(`[data-key="${name}"]`);
  await expect(row).toContainText("never");
  const secret = (await shown.textContent())!;
  await expect(row).not.toContainText(secret);

  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator(`[data-key="${name}"]`)).toContainText("revoked");
  // After a reload the key is nowhere on the page.
  await page.reload();
  await expect(page.locator("body")).not.toContainText(secret);
});

test("the creator adds a repository, writes its page with a live preview, and publishes it", async ({ page, request, expectRefusals }) => {
  // A new private repository on the sandbox's GitHub, so the suite can run again on the same instance.
  const name = `course-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
  await page.goto("/auth/github?next=/admin/repositories");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page.getByRole("heading", { name: "Repositories" })).toBeVisible();
  await hydrated(page);
  await page.locator(`[data-reachable="sandbox-creator/${name}"]`).getByRole("button", { name: `Add sandbox-creator/${name}`, exact: true }).click();

  await expect(page).toHaveURL(/\/admin\/repositories\/\d+$/);
  await expect(page.getByTestId("edit-status")).toHaveText("draft");
  await hydrated(page);
  await page.getByLabel("Title").fill("Course Materials");
  await page.getByLabel("Summary").fill("Every exercise, with solutions");
  await page.getByLabel("Description (Markdown)").fill("## Inside\n\n**42** exercises <script>alert(1)</script>");
  await expect(page.getByTestId("preview").locator("strong")).toHaveText("42");
  await expect(page.getByTestId("preview").locator("script")).toHaveCount(0);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { name: "Course Materials" })).toBeVisible();
  await expect(page.getByTestId("saved")).toHaveText("Saved.");
  // A change not saved yet is said, and leaving the page asks first.
  await page.getByLabel("Summary").fill("Every exercise, with all the solutions");
  await expect(page.getByTestId("unsaved")).toHaveText("Unsaved changes");
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.dismiss();
  });
  await page.getByRole("link", { name: "Store" }).click();
  await expect.poll(() => asked).toContain("changes you have not saved");
  await expect(page).toHaveURL(/\/admin\/repositories\/\d+$/);
  await page.getByLabel("Summary").fill("Every exercise, with solutions");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("saved")).toHaveText("Saved.");
  await expect(page.getByTestId("unsaved")).toHaveCount(0);
  // Without a price, publishing would show "Coming soon": the editor says so first.
  await expect(page.getByTestId("no-price-warning")).toBeVisible();

  // Prices: a monthly and a one-time one, each created in the sandbox's Stripe.
  await expect(page.getByTestId("personal-warning")).toContainText("GitHub gives every collaborator write (push) access");
  const add = page.getByTestId("add-price");
  // Trials are for subscriptions: the field shows only for them.
  await expect(add.getByTestId("trial-days")).toBeHidden();
  await add.getByLabel("Billing").selectOption("month");
  await expect(add.getByTestId("trial-days")).toBeVisible();
  await add.getByLabel("Amount", { exact: true }).fill("9");
  await add.getByLabel("Trial days").fill("14");
  await add.getByRole("button", { name: "Add price" }).click();
  await expect(page.getByTestId("price")).toHaveCount(1);
  await expect(page.getByTestId("price-list")).toContainText("$9.00 / month");
  await expect(page.getByTestId("price-list")).toContainText("14-day trial");
  // A personal repository: the list says what the buyer really gets.
  await expect(page.getByTestId("price-access").first()).toHaveText("read and write access (personal repository)");
  await add.getByLabel("Billing").selectOption("one_time");
  await expect(add.getByTestId("trial-days")).toBeHidden();
  await add.getByLabel("Currency").selectOption("eur");
  await add.getByLabel("Amount", { exact: true }).fill("49");
  await add.getByRole("button", { name: "Add price" }).click();
  await expect(page.getByTestId("price")).toHaveCount(2);
  await expect(page.getByTestId("price-list")).toContainText("€49.00");
  await expect(page.getByTestId("no-price-warning")).toHaveCount(0);
  // Pay what you want for 12 months: the model's fields show for one-time prices only.
  await add.getByLabel("Currency").selectOption("usd");
  await add.getByLabel("Amount", { exact: true }).fill("9");
  await add.getByLabel("Price").selectOption("pay_what_you_want");
  await add.getByLabel("Suggested amount").fill("15");
  await add.getByLabel("Access for (days)").fill("365");
  await add.getByRole("button", { name: "Add price" }).click();
  await expect(page.getByTestId("price")).toHaveCount(3);
  await expect(page.getByTestId("price-list")).toContainText("pay what you want, at least this, $15.00 suggested");
  await expect(page.getByTestId("price-list")).toContainText("12 months of access");
  await add.getByLabel("Billing").selectOption("year");
  await expect(add.getByLabel("Suggested amount")).toBeHidden();
  await expect(add.getByLabel("Access for (days)")).toBeHidden();
  await add.getByLabel("Billing").selectOption("one_time");
  // A bad amount is refused with a reason, and nothing is added.
  expectRefusals(1);
  await add.getByLabel("Amount", { exact: true }).fill("0.10");
  await add.getByRole("button", { name: "Add price" }).click();
  await expect(page.getByRole("alert")).toContainText("smallest charge");
  await expect(page.getByTestId("price")).toHaveCount(3);

  // A cover over 2 MB is refused with words, not a reset connection.
  const huge = Buffer.concat([PNG, Buffer.alloc(2_500_000)]);
  await page.locator('input[name="cover"]').setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: huge });
  await page.getByRole("button", { name: "Upload cover" }).click();
  await expect(page.getByRole("alert")).toContainText("the image is larger than 2 MB");
  // A cover image, through the plain upload form.
  await page.locator('input[name="cover"]').setInputFiles({ name: "cover.png", mimeType: "image/png", buffer: PNG });
  await page.getByRole("button", { name: "Upload cover" }).click();
  await expect(page.getByText("Cover saved.")).toBeVisible();
  await expect(page.getByTestId("cover-image")).toBeVisible();
  await hydrated(page);

  await page.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(page.getByTestId("edit-status")).toHaveText("published");
  await expect(page.getByTestId("status-notice")).toHaveText("Published: buyers can see the page and buy.");
  await expect(page.getByTestId("public-link")).toHaveAttribute("href", `/p/${name}`);

  const editor = page.url();

  // A sale in euros: the dashboard charts each currency on its own (they do not add up).
  const buyer = `euro-${Date.now()}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();
  await page.goto(`/p/${name}`);
  const euros = await page.getByTestId("price-option").filter({ hasText: "€49.00" }).locator("input").getAttribute("value");
  const started = await page.request.post("/api/checkout", {
    headers: { accept: "text/html", ...FROM_OUR_PAGES },
    form: { price_id: euros ?? "", github_username: buyer, email: `${buyer}@example.com` },
    maxRedirects: 0,
  });
  expect(started.status(), await started.text()).toBe(303);
  const session = started.headers()["location"].split("/").pop();
  expect((await request.post(`/sandbox/control/stripe/checkout/${session}/pay`, { data: {} })).ok()).toBeTruthy();
  await expect(async () => {
    await page.goto("/admin");
    await expect(page.locator('[data-testid="revenue-chart"][data-currency="eur"]')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator('[data-testid="revenue-chart"][data-currency="usd"]')).toBeVisible();
  await expect(page.getByRole("img", { name: "Revenue per day in EUR" })).toBeVisible();

  await page.goto("/");
  const list = page.getByTestId("product-list");
  await expect(list).toContainText("Course Materials");
  await expect(list).toContainText("Every exercise, with solutions");
  await expect(list).toContainText("$9.00");
  await expect(list.locator('img[src^="/covers/"]')).toBeVisible();

  // Archived, it leaves the store again (and the store's empty-state test holds).
  await page.goto(editor);
  await hydrated(page);
  await page.getByRole("button", { name: "Archive", exact: true }).click();
  await expect(page.getByTestId("edit-status")).toHaveText("archived");
  await page.goto("/");
  await expect(page.getByTestId("empty-store")).toBeVisible();
});

test("someone else who signs in is told they are not an admin", async ({ page, expectRefusals }) => {
  // The "not an admin" page is a 403, the signed-out prompt a 401.
  expectRefusals(2);
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as alice" }).click();
  await expect(page.getByTestId("not-admin")).toHaveText("This account is not an admin");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Creator sign-in" })).toBeVisible();
});
