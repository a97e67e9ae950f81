import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, hydrated, list, signOut, takeOffSale } from "./fixtures";

// A product of several repositories, in a browser: the creator adds a
// second repository in the editor, a buyer gets both (each with its own
// invitation), a third added later reaches the buyer, and one taken out
// (after the creator saw how many lose it) is taken from them.

async function repo(request: APIRequestContext, name: string) {
  expect((await request.post("/sandbox/control/github/repos", { data: { owner: "sandbox-creator", name } })).ok()).toBeTruthy();
}

async function asCreator(page: Page, path: string) {
  await page.goto(`/auth/github?next=${path}`);
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await hydrated(page);
}

async function addInEditor(page: Page, fullName: string) {
  const form = page.getByTestId("add-repository");
  await form.getByLabel("Add a repository").selectOption({ label: fullName });
  await form.getByRole("button", { name: "Add repository" }).click();
  await expect(page.getByTestId("repositories-notice")).toContainText(`Added ${fullName}`);
  await expect(page.getByTestId("product-repository").filter({ hasText: fullName })).toBeVisible();
}

/** The buyer's access per repository on /account, reloaded until `want` holds. */
async function untilAccess(page: Page, want: Record<string, string>) {
  await expect(async () => {
    await page.goto("/account");
    const items = page.getByTestId("repository-access");
    await expect(items).toHaveCount(Object.keys(want).length, { timeout: 1_000 });
    for (const [name, state] of Object.entries(want)) {
      await expect(items.and(page.locator(`[data-repository="${name}"]`))).toHaveAttribute("data-state", state, { timeout: 1_000 });
    }
  }).toPass({ timeout: 30_000 });
}

test("a product of several repositories: bought, extended, and one taken out", async ({ page, request }) => {
  test.setTimeout(120_000);
  const stamp = Date.now();
  const [kit, plugins, extras] = [`kit-${stamp}`, `plugins-${stamp}`, `extras-${stamp}`];
  for (const name of [kit, plugins, extras]) await repo(request, name);
  const full = (name: string) => `sandbox-creator/${name}`;

  await asCreator(page, "/admin");
  const id = await list(page, { fullName: full(kit), slug: kit, title: "Kit and plugins", prices: [{ interval: "one_time", amount: "10" }] });
  await page.goto(`/admin/repositories/${id}`);
  await hydrated(page);
  await addInEditor(page, full(plugins));
  await expect(page.getByTestId("product-repository")).toHaveCount(2);
  await signOut(page);

  // The product page lists both; the buyer pays once and is invited to each.
  const buyer = `kit-buyer-${stamp}`;
  expect((await request.post("/sandbox/control/github/users", { data: { login: buyer } })).ok()).toBeTruthy();
  await page.goto(`/p/${kit}`);
  await hydrated(page);
  await expect(page.getByTestId("what-you-get")).toContainText(`${full(kit)} and ${full(plugins)}`);
  await page.getByLabel("GitHub username").fill(buyer);
  await expect(page.getByTestId("github-user")).toContainText(`@${buyer}`);
  await page.getByLabel("Email").fill(`${buyer}@example.com`);
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await page.getByRole("button", { name: /Pay — card succeeds/ }).click();
  await expect(page.getByTestId("step-invited")).toHaveAttribute("data-done", "true");

  await page.getByRole("link", { name: "My purchases" }).click();
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await untilAccess(page, { [full(kit)]: "invited", [full(plugins)]: "invited" });
  const kitAccess = page.locator(`[data-testid="repository-access"][data-repository="${full(kit)}"]`);
  await expect(kitAccess.getByRole("link", { name: "Accept on GitHub" })).toHaveAttribute("href", /\/invitations$/);

  // Accepted on GitHub for the kit only: that one is active, the other still waits.
  const state = await (await request.get("/sandbox/control/github/state")).json();
  const kitRepo = state.repositories.find((r: { full_name: string }) => r.full_name === full(kit));
  const invitation = kitRepo.invitations.find((i: { login: string }) => i.login === buyer);
  expect((await request.post(`/sandbox/control/github/invitations/${invitation.id}/accept`, { data: {} })).ok()).toBeTruthy();
  await untilAccess(page, { [full(kit)]: "active", [full(plugins)]: "invited" });
  await signOut(page);

  // A third repository reaches the buyer; one taken out is taken from them.
  await asCreator(page, `/admin/repositories/${id}`);
  await addInEditor(page, full(extras));
  await expect(page.getByTestId("repositories-notice")).toContainText("the customer who has access is being invited to it");
  const pluginsItem = page.getByTestId("product-repository").filter({ hasText: full(plugins) });
  await pluginsItem.getByText("Remove…").click();
  await expect(pluginsItem.getByTestId("removal-count")).toHaveText(`1 customer loses access to ${full(plugins)}.`);
  await pluginsItem.getByRole("button", { name: "Confirm removal" }).click();
  await expect(page.getByTestId("repositories-notice")).toContainText(`Took ${full(plugins)} out of the product: one customer loses access to it.`);
  await expect(page.getByTestId("product-repository")).toHaveCount(2);

  // The creator's customer page shows the buyer's access per repository.
  await page.goto(`/admin/customers?q=${buyer}`);
  await page.getByRole("link", { name: `@${buyer}` }).click();
  const purchase = page.getByTestId("admin-purchase");
  await expect(purchase.locator(`[data-repository="${full(extras)}"]`)).toHaveAttribute("data-state", /invited|waiting/);
  await expect(purchase.getByTestId("timeline")).toContainText(full(plugins));
  await signOut(page);

  await page.goto("/account");
  await page.getByTestId("account-github-sign-in").click();
  await page.getByRole("button", { name: `Sign in as ${buyer}`, exact: true }).click();
  await untilAccess(page, { [full(kit)]: "active", [full(extras)]: "invited" });
  await signOut(page);

  // Off sale again: the journeys share one server, and others expect an empty store.
  await takeOffSale(page, id);
});
