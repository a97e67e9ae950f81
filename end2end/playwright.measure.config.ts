import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Measurements, not tests: `npx playwright test -c playwright.measure.config.ts`
// against a running RepoPass (README, "Benchmarks"). Not part of the suite.
export default defineConfig({
  ...base,
  testDir: "./measure",
  timeout: 300_000,
  projects: [base.projects![0]],
});
