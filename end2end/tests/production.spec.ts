import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, expect, accessible, hydrated, list } from "./fixtures";

// From the sandbox to production, as a creator does it: a second RepoPass
// in production mode, pointed at the sandbox of the one under test as if it
// were GitHub and Stripe — base URLs only, as a deployment is pointed at the
// real ones. The setup link from its log, the GitHub App from a manifest,
// its installation, the owner's sign-in, a pasted Stripe key; then a
// repository on sale, a buyer, and the invitation on "GitHub".

const SANDBOX = process.env.REPOPASS_E2E_URL ?? "http://127.0.0.1:3000";
const PORT = 3100;
const BASE = `http://127.0.0.1:${PORT}`;
const ROOT = path.resolve(__dirname, "../..");

/** With REPOPASS_SCREENSHOTS=1, the wizard's screens for the README. */
async function screenshot(page: import("@playwright/test").Page, name: string) {
  if (process.env.REPOPASS_SCREENSHOTS === "1") {
    await page.screenshot({ path: path.join(ROOT, "docs", "screenshots", `${name}.png`), fullPage: true });
  }
}

/** The binary of the build under test: cargo-leptos says which profile
 *  (LEPTOS_ENV); the browser files it serves come from that build. */
function binary(): string {
  if (process.env.REPOPASS_BIN) return process.env.REPOPASS_BIN;
  const profile = process.env.LEPTOS_ENV === "DEV" ? "debug" : "release";
  const built = [profile, profile === "release" ? "debug" : "release"].map((p) => path.join(ROOT, "target", p, "repopass"));
  const found = built.find(existsSync);
  if (!found) throw new Error("no repopass binary under target/");
  return found;
}

/** Starts it with nothing but PUBLIC_URL and the base URLs configured
 *  (plus where to listen, its logs, and where this checkout keeps the
 *  browser files); resolves with the setup link it prints. */
function startProduction(): Promise<{ child: ChildProcess; link: string; output: () => string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "repopass-production-"));
  const child = spawn(binary(), ["serve"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      PUBLIC_URL: BASE,
      STRIPE_API_BASE: `${SANDBOX}/sandbox/stripe/`,
      GITHUB_API_URL: `${SANDBOX}/sandbox/github/api`,
      GITHUB_WEB_URL: `${SANDBOX}/sandbox/github`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      REPOPASS_LEPTOS_CONFIG: path.join(ROOT, "Cargo-leptos.toml"),
      LOG_FORMAT: "json",
      RUST_LOG: "warn,repopass=info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    let link = "";
    const timer = setTimeout(() => reject(new Error(`no setup link within 60 s:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split("\n")) {
        const found = line.match(/https?:\/\/\S+\/setup\?token=[0-9a-f]+/);
        if (found) link = found[0];
        if (link && line.includes("RepoPass is listening")) {
          clearTimeout(timer);
          resolve({ child, link, output: () => output });
        }
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => reject(new Error(`repopass exited (${code}):\n${output}`)));
  });
}

test("from the sandbox to production: setup link, GitHub App, Stripe key, a sale", async ({ page, browser, request }, testInfo) => {
  test.skip(testInfo.project.name !== "desktop", "one production deployment per run");
  test.setTimeout(120_000);
  const production = await startProduction();
  let endpoint: { id: string; key: string } | undefined;
  try {
    // A second browser, without the link: nothing but "being set up".
    const stranger = await (await browser.newContext()).newPage();
    expect((await stranger.goto(`${BASE}/`))!.status()).toBe(503);
    await expect(stranger.locator("body")).toContainText("RepoPass is being set up");
    await stranger.goto(`${BASE}/setup`);
    await expect(stranger.getByTestId("setup-locked")).toBeVisible();
    await accessible(stranger, "setup, without the link");
    expect((await stranger.goto(`${BASE}/admin`))!.status()).toBe(503);

    // The holder of the link: GitHub in one click.
    await page.goto(production.link);
    await expect(page).toHaveURL(`${BASE}/setup`);
    await hydrated(page);
    await expect(page.getByTestId("setup-step-1")).toHaveAttribute("data-done", "false");
    await accessible(page, "setup wizard");
    await screenshot(page, "setup-1-github");
    await page.getByRole("button", { name: "Create the GitHub App" }).click();
    await expect(page.getByRole("heading", { name: "Create GitHub App" })).toBeVisible();
    await expect(page.getByTestId("manifest-permissions")).toHaveText("administration: write, metadata: read");
    await screenshot(page, "setup-2-create-app");
    await page.getByLabel("GitHub App name").fill(`RepoPass E2E ${Date.now()}`);
    await page.getByRole("button", { name: "Create GitHub App" }).click();
    await expect(page).toHaveURL(`${BASE}/setup`);
    await expect(page.getByTestId("setup-step-1")).toHaveAttribute("data-done", "true");

    // Installed on the repository to sell.
    await page.getByTestId("install-app").click();
    await page.getByLabel("sandbox-creator/pro-kit").check();
    await page.getByRole("button", { name: "Install" }).click();
    await expect(page).toHaveURL(new RegExp(`^${BASE}/setup\\?installation_id=\\d+`));
    await expect(page.getByTestId("setup-repositories")).toHaveText("sandbox-creator/pro-kit");

    // The owner signs in through the App.
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
    await expect(page).toHaveURL(`${BASE}/setup`);
    await expect(page.getByTestId("setup-step-2")).toHaveAttribute("data-done", "true");
    await accessible(page, "setup wizard, Stripe step");
    await screenshot(page, "setup-3-stripe");

    // Stripe in one paste: the key from the (sandbox's) Stripe dashboard.
    const dashboard = await page.context().newPage();
    await dashboard.goto(`${SANDBOX}/sandbox`);
    const key = (await dashboard.getByTestId("stripe-secret-key").textContent())!.trim();
    await dashboard.close();
    await hydrated(page);
    await page.getByLabel("Stripe key (sk_… or rk_…)").fill(key);
    await page.getByRole("button", { name: "Connect Stripe" }).click();
    await expect(page.getByTestId("stripe-connected")).toContainText("webhook endpoint we_");
    const id = (await page.getByTestId("stripe-connected").textContent())!.match(/we_\w+/)![0];
    endpoint = { id, key };
    await screenshot(page, "setup-4-done");

    // Setup is over: the store is open, setup is closed.
    await expect.poll(async () => (await stranger.goto(`${BASE}/`))!.status(), { timeout: 15_000 }).toBe(200);
    // A new store says what it will show (the suite's own server has
    // products by now; this one has none yet).
    await expect(stranger.getByTestId("empty-store")).toContainText("Nothing on sale yet");
    await accessible(stranger, "empty storefront");
    await stranger.goto(`${BASE}/setup`);
    await expect(stranger.getByTestId("setup-finished")).toBeVisible();

    // The owner puts pro-kit on sale.
    await page.getByRole("link", { name: "open the admin" }).click();
    await expect(page).toHaveURL(`${BASE}/admin`);
    await list(page, {
      base: BASE,
      fullName: "sandbox-creator/pro-kit",
      slug: "pro-kit",
      title: "Pro Kit",
      description: "The professional starter kit.",
      prices: [{ interval: "one_time", amount: "25" }],
    });

    // A buyer pays; Stripe's webhook reaches production; GitHub invites them.
    const login = `prod-buyer-${Date.now()}`;
    expect((await request.post("/sandbox/control/github/users", { data: { login } })).ok()).toBeTruthy();
    const buyer = await (await browser.newContext()).newPage();
    await buyer.goto(`${BASE}/p/pro-kit`);
    await hydrated(buyer);
    await buyer.getByLabel("GitHub username").fill(login);
    await expect(buyer.getByTestId("github-user")).toContainText(`@${login}`);
    await buyer.getByLabel("Email").fill(`${login}@example.com`);
    await buyer.getByRole("button", { name: "Continue to payment" }).click();
    await expect(buyer).toHaveURL(new RegExp(`^${SANDBOX}/sandbox/stripe/pay/`));
    await buyer.getByRole("button", { name: /Pay — card succeeds/ }).click();
    await expect(buyer).toHaveURL(new RegExp(`^${BASE}/checkout/success`));
    await expect(buyer.getByTestId("step-invited")).toHaveAttribute("data-done", "true", { timeout: 20_000 });
    await buyer.goto(`${SANDBOX}/sandbox/github/sandbox-creator/pro-kit/invitations`);
    await expect(buyer.locator(`[data-invitee="${login}"]`)).toBeVisible();
  } catch (e) {
    throw new Error(`${e}\n--- the production RepoPass said:\n${production.output()}`);
  } finally {
    production.child.kill("SIGTERM");
    // Torn down as a creator would: Stripe stops sending to the dead address.
    if (endpoint) {
      await request.delete(`${SANDBOX}/sandbox/stripe/v1/webhook_endpoints/${endpoint.id}`, {
        headers: { Authorization: `Bearer ${endpoint.key}` },
      });
    }
  }
});
