// The administrator's operations page: only administrators see it (and its menu entry);
// it shows the queue, failures, storage and cleanup runs, fits a phone and works by
// keyboard; a cleanup run from the command line appears on it.
import { spawnSync } from "node:child_process";
import { expect, test } from "./fixtures";
import { goToSection, hydrated, openMenu, signInAsAdmin, signUp } from "./helpers";


test("members do not see the operations page; visitors are asked to sign in", async ({ page }) => {
  const anonymous = await page.goto("/admin");
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin$/);
  expect(anonymous?.ok()).toBe(true);

  await signUp(page, "member");
  const menu = await openMenu(page);
  await expect(menu.getByRole("link", { name: "Settings" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "Operations" })).toHaveCount(0);
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Queue" })).toHaveCount(0);
});

test("an administrator sees the queue, failures, storage and cleanup runs", async ({ page }) => {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  page.on("console", (msg) => {
    // The administrator's account is shared by the suite's tests, which run at once: an
    // image another test deleted can be gone when this page's Studio asks for it (the
    // browser logs the 404 itself). Script errors are still caught by "pageerror".
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) problems.push(msg.text());
  });
  await signInAsAdmin(page);
  await hydrated(page);
  // The menu has the entry; the page opens from it.
  await goToSection(page, "Operations");
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Operations");
  for (const heading of ["Queue", "Failures in the last 24 hours", "Storage", "Cleanup runs"]) {
    await expect(page.getByRole("heading", { name: heading })).toBeVisible();
  }
  const jobs = page.getByRole("table", { name: "Jobs by provider and state" });
  await expect(jobs.getByRole("rowheader", { name: "Built-in" })).toBeVisible();
  await expect(jobs.getByRole("columnheader", { name: "Generating" })).toBeVisible();

  // A job of the administrator's own: counted once it has finished, after Refresh.
  const started = await page.request.post("/api/v1/generations?wait=true", {
    data: { prompt: "An operator at a desk", size: "256x256" },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(started.status()).toBe(200);
  const completed = async () =>
    Number(await jobs.getByRole("row", { name: /Built-in/ }).getByRole("cell").nth(4).textContent());
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect.poll(completed).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId("storage-images")).not.toHaveText("0 KB");

  // A cleanup from the command line appears among the runs.
  const run = spawnSync(process.env.E2E_SERVER_BIN!, ["cleanup"], {
    env: { PATH: process.env.PATH, DATA_DIR: process.env.E2E_DATA_DIR },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  await page.getByRole("button", { name: "Refresh" }).click();
  const runs = page.getByRole("list", { name: "Cleanup runs, newest first" });
  await expect(runs.getByRole("listitem").first()).toContainText("The command line");
  await expect(runs.getByRole("listitem").first()).toContainText("cleanup: deleted");
  await expect(page.getByText("The server runs the cleanup every 1 hour(s).")).toBeVisible();

  // Keyboard: Refresh works from the keyboard and keeps the focus once the numbers are
  // read again (they update in place); then the scrollable table region is next with Tab.
  const refresh = page.getByRole("button", { name: "Refresh" });
  await refresh.focus();
  await page.keyboard.press("Enter");
  await expect(refresh).toHaveAttribute("aria-busy", "false");
  await expect(refresh).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("region", { name: "Jobs by provider and state" })).toBeFocused();

  // It fits the screen (the tables scroll inside their region on a phone).
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  expect(problems).toEqual([]);
});

test("an administrator makes an invitation link and sets one account's limits", async ({ page, browser }) => {
  // A member with an image, so that their storage shows.
  const member = await browser.newPage();
  const email = await signUp(member, "limited");
  await member.goto("/settings");
  await expect(member.getByRole("heading", { name: "Usage" })).toBeVisible();
  await expect(member.getByText("Jobs queued or running")).toBeVisible();
  await expect(member.getByText("These are the limits of this instance.")).toBeVisible();

  await signInAsAdmin(page);
  await page.goto("/admin");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Invitations" })).toBeVisible();
  await expect(page.getByText(/Sign-up is open \(SIGNUP=open\)/)).toBeVisible();
  // The suite runs on several screens against one server: each run its own note.
  const note = `for ${email}`;
  await page.getByLabel("For whom (optional)").fill(note);
  await page.getByRole("button", { name: "Make an invitation link" }).click();
  const link = page.getByLabel(/Invitation link, single use/);
  await expect(link).toHaveValue(/\/signup\?invite=[A-Za-z0-9_-]{20,}$/);
  const waiting = page.getByRole("list", { name: "Invitations waiting to be used" });
  await expect(waiting.getByText(note)).toBeVisible();

  // The member's row: usage, and limits of their own.
  const accounts = page.getByRole("list", { name: "Accounts" });
  const row = accounts.getByRole("listitem").filter({ hasText: email });
  await row.getByText("Set its own limits").click();
  await row.getByLabel("Images per 24 h").fill("7");
  await row.getByRole("button", { name: "Save limits" }).click();
  await expect(accounts.getByRole("listitem").filter({ hasText: email }).getByText("0 of 7")).toBeVisible();

  await member.reload();
  await expect(member.getByText("An administrator set these limits for your account.")).toBeVisible();
  await expect(member.getByText("0 of 7")).toBeVisible();
  await member.close();
});
