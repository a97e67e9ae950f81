import type { Browser, BrowserContext } from "@playwright/test";
import { test, expect, putOnSale } from "../tests/fixtures";

// A first visit to each kind of page, in a fresh browser profile (nothing
// cached) on Chrome DevTools' "Fast 3G" profile: what the browser
// downloads (bytes on the wire, as compressed) and how long until the
// page is interactive (hydrated: `data-hydrated` on <html>).
const FAST_3G = { offline: false, latency: 150 * 3.75, downloadThroughput: (1.6 * 1000 * 1000) / 8 * 0.9, uploadThroughput: (750 * 1000) / 8 * 0.9 };

type Visit = { page: string; total: number; wasm: number; js: number; css: number; html: number; interactive: number };

async function firstVisit(browser: Browser, path: string, storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>): Promise<Visit> {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", FAST_3G);
  const kinds = new Map<string, string>();
  const visit: Visit = { page: path, total: 0, wasm: 0, js: 0, css: 0, html: 0, interactive: 0 };
  cdp.on("Network.responseReceived", (e) => {
    const url = new URL(e.response.url).pathname;
    const kind = url.endsWith(".wasm") ? "wasm" : url.endsWith(".js") ? "js" : url.endsWith(".css") ? "css" : e.type === "Document" ? "html" : "other";
    kinds.set(e.requestId, kind);
  });
  cdp.on("Network.loadingFinished", (e) => {
    const kind = kinds.get(e.requestId) ?? "other";
    visit.total += e.encodedDataLength;
    if (kind in visit) (visit as unknown as Record<string, number>)[kind] += e.encodedDataLength;
  });
  const start = Date.now();
  await page.goto(path);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 120_000 });
  visit.interactive = Date.now() - start;
  await context.close();
  return visit;
}

test("first visit per page type on Fast 3G", async ({ page, browser }) => {
  await putOnSale(page);
  // The creator, signed in, for the dashboard.
  await page.goto("/auth/github?next=/admin");
  await page.getByRole("button", { name: "Sign in as sandbox-creator" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const creator = await page.context().storageState();
  const rows = [
    await firstVisit(browser, "/"),
    await firstVisit(browser, "/p/enterprise-sdk"),
    await firstVisit(browser, "/account"),
    await firstVisit(browser, "/admin", creator),
  ];
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.log("\n| page | all bytes | wasm | JavaScript | CSS | HTML | interactive after |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(`| \`${r.page}\` | ${kb(r.total)} | ${kb(r.wasm)} | ${kb(r.js)} | ${kb(r.css)} | ${kb(r.html)} | ${(r.interactive / 1000).toFixed(1)} s |`);
  }
});
