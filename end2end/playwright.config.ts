import { defineConfig, devices } from "@playwright/test";

// The server is started by global-setup.ts (the real release binary, a temporary
// DATA_DIR, a free port); it publishes its address in E2E_BASE_URL.
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined } },
    {
      name: "phone",
      // A 360 px wide phone, in Chromium.
      use: { ...devices["Galaxy S9+"], viewport: { width: 360, height: 740 }, defaultBrowserType: "chromium" },
    },
  ],
});
