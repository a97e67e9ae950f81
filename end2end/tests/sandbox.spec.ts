import { test, expect, hydrated } from "./fixtures";

// The sandbox's stand-in credentials (public by design: they open nothing real).
const CLIENT_ID = "Iv1.repopass-sandbox";
const CREATOR_TOKEN = "ghp_repopass_sandbox_creator";

test("every page says when the sandbox is on", async ({ page }) => {
  await page.goto("/");
  const banner = page.getByTestId("sandbox-banner");
  await expect(banner).toContainText("Sandbox — no real money or GitHub access");
  await hydrated(page);
  await banner.getByRole("link", { name: "Open the sandbox console" }).click();
  await expect(page.getByRole("heading", { name: "Sandbox console" })).toBeVisible();
});

test("the console accepts an invitation, removes a collaborator and moves the clock", async ({ page, request, baseURL }) => {
  // RepoPass would send this invitation; here the test asks GitHub directly.
  const login = `e2e-buyer-${Date.now()}`;
  const created = await request.post("/sandbox/control/github/users", { data: { login } });
  expect(created.ok()).toBeTruthy();
  const invite = await request.put(`/sandbox/github/api/repos/sandbox-creator/pro-kit/collaborators/${login}`, {
    headers: { Authorization: `Bearer ${CREATOR_TOKEN}` },
    data: { permission: "pull" },
  });
  expect(invite.status()).toBe(201);

  await page.goto("/sandbox");
  const repo = page.locator('[data-repo="sandbox-creator/pro-kit"]');
  await expect(repo.locator(`[data-invitation="${login}"]`)).toBeVisible();
  await repo.getByRole("button", { name: `Accept as ${login}` }).click();

  await expect(repo.locator(`[data-collaborator="${login}"]`)).toContainText("write");
  await expect(repo.locator(`[data-invitation="${login}"]`)).toHaveCount(0);
  // GitHub's `member` webhook went out to RepoPass and is logged.
  await expect(page.locator('[data-delivery="member"]').first()).toBeVisible();

  await repo.locator("form", { has: page.locator(`[data-collaborator="${login}"]`) }).getByRole("button", { name: "Remove by hand" }).click();
  await expect(repo.locator(`[data-collaborator="${login}"]`)).toHaveCount(0);

  const before = await page.getByTestId("sandbox-now").textContent();
  await page.getByLabel("Advance by").fill("8");
  await page.getByRole("button", { name: "Advance" }).click();
  const after = await page.getByTestId("sandbox-now").textContent();
  expect(Date.parse(after!) - Date.parse(before!)).toBeGreaterThanOrEqual(8 * 86400 * 1000);
  expect(baseURL).toBeTruthy();
});

test("the sandbox OAuth page signs you in as whoever you pick", async ({ page, baseURL }) => {
  const redirect = `${baseURL}/`;
  await page.goto(`/sandbox/github/login/oauth/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(redirect)}&state=e2e-state&scope=read:user`);
  await expect(page.getByRole("heading", { name: "Sign in to GitHub" })).toBeVisible();
  await expect(page.getByTestId("sandbox-banner")).toBeVisible();
  await page.getByRole("button", { name: "Sign in as alice" }).click();
  await expect(page).toHaveURL(/\/\?code=[A-Za-z0-9]+&state=e2e-state$/);
});
