import { test as base, expect } from "@playwright/test";

// Every page test fails on a console error or an uncaught exception, except
// the refusals a test provokes on purpose and declares with `expectRefusals`
// (the browser logs every 4xx answer to a server function as an error).
export const test = base.extend<{ consoleErrors: string[]; expectRefusals: (n: number) => void }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      const allowed = (page as unknown as { __refusals?: number }).__refusals ?? 0;
      const refusals = errors.filter((e) => /status of 4\d\d/.test(e));
      const others = errors.filter((e) => !/status of 4\d\d/.test(e));
      expect(others, "console errors").toEqual([]);
      expect(refusals.length, `unexpected refusals: ${refusals.join(" | ")}`).toBeLessThanOrEqual(allowed);
    },
    { auto: true },
  ],
  expectRefusals: async ({ page }, use) => {
    await use((n: number) => {
      const p = page as unknown as { __refusals?: number };
      p.__refusals = (p.__refusals ?? 0) + n;
    });
  },
});

export { expect };

/** Resolves once the wasm has hydrated the page. */
export async function hydrated(page: import("@playwright/test").Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}
