// The README's phone screenshots (390 px wide), taken from a running
// zero-config RepoPass: `./dev run`, then `cd end2end && npm run screenshots`.
// It puts a repository on sale and buys it in the sandbox first.
import { chromium } from "@playwright/test";

const base = process.env.REPOPASS_E2E_URL ?? "http://127.0.0.1:3000";
const out = new URL("../docs/screenshots/", import.meta.url).pathname;
const same = { "sec-fetch-site": "same-origin" };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--headless"] });
const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
const page = await context.newPage();
const hydrated = () => page.waitForSelector('html[data-hydrated="true"]');

// On sale: sandbox-org/enterprise-sdk at $9/month and $149 once.
await page.goto("/auth/github?next=/admin");
await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
const reachable = await (await page.request.post("/api/admin/repositories/reachable", { headers: same })).json();
const sdk = reachable.find((r) => r.full_name === "sandbox-org/enterprise-sdk");
if (!sdk.already_added) await page.request.post("/api/admin/repositories/add", { headers: same, form: { github_id: String(sdk.github_id) } });
const list = await (await page.request.post("/api/admin/repositories/list", { headers: same })).json();
const id = String(list.find((r) => r.full_name === "sandbox-org/enterprise-sdk").id);
await page.request.post("/api/admin/repositories/save", {
  headers: same,
  form: {
    id,
    slug: "enterprise-sdk",
    title: "Enterprise SDK",
    summary: "The SDK our customers build on, with a year of support",
    description: "## What you get\n\n- The **whole** SDK, with its examples\n- Every release as it ships\n- Answers from the maintainers\n\n```rust\nlet client = Sdk::connect(key)?;\n```",
  },
});
const repo = await (await page.request.post("/api/admin/repositories/get", { headers: same, form: { id } })).json();
if (repo.prices.length === 0) {
  for (const [interval, amount] of [["month", "9"], ["one_time", "149"]]) {
    await page.request.post("/api/admin/prices/add", { headers: same, form: { repository_id: id, interval, amount, currency: "usd", trial_days: "0", permission: "pull" } });
  }
}
await page.request.post("/api/admin/repositories/status", { headers: same, form: { id, status: "published" } });

// A buyer.
const login = `mona-${Date.now()}`;
const made = await page.request.post("/sandbox/control/github/users", { headers: same, data: { login } });
if (!made.ok()) throw new Error(`user: ${await made.text()}`);
await page.goto("/p/enterprise-sdk");
const price = await page.locator('input[name="price_id"]').first().getAttribute("value");
const started = await page.request.post("/api/checkout", { headers: { accept: "text/html", ...same }, form: { price_id: price, github_username: login, email: `${login}@example.com` }, maxRedirects: 0 });
if (started.status() !== 303) throw new Error(`checkout: ${started.status()} ${await started.text()}`);
const session = started.headers()["location"].split("/").pop();
const paid = await page.request.post(`/sandbox/control/stripe/checkout/${session}/pay`, { headers: same, data: {} });
if (!paid.ok()) throw new Error(`pay: ${await paid.text()}`);

// Once GitHub's invitation is out (the worker is quick, but not instant).
for (let i = 0; i < 30; i++) {
  await page.goto("/admin");
  if (await page.getByTestId("activity").getByText(/was invited/).count()) break;
  await page.waitForTimeout(500);
}
await hydrated();
await page.screenshot({ path: `${out}dashboard-390.png`, fullPage: true });
await page.goto("/sandbox");
await page.request.post("/auth/logout", { headers: same });

await page.goto("/p/enterprise-sdk");
await hydrated();
await page.screenshot({ path: `${out}product-390.png`, fullPage: true });

await page.goto("/account");
await page.getByTestId("account-github-sign-in").click();
await page.getByRole("button", { name: `Sign in as ${login}`, exact: true }).click();
await hydrated();
await page.screenshot({ path: `${out}account-390.png`, fullPage: true });

await browser.close();
console.log(`screenshots written to ${out}`);
