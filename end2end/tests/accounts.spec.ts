import { type Page, type BrowserContext } from "@playwright/test";
import { test, expect } from "./fixtures";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PASSWORD, hydrated, newEmail, signOut } from "./helpers";

/// The link in the newest outbox message to `address` that contains `path`.
async function linkFromOutbox(address: string, path: string): Promise<string> {
  const outbox = join(process.env.E2E_DATA_DIR!, "outbox");
  let found: string | undefined;
  await expect
    .poll(() => {
      let files: string[] = [];
      try {
        files = readdirSync(outbox).sort();
      } catch {
        return undefined;
      }
      for (const file of files.reverse()) {
        // Quoted-printable: undo the soft line breaks and "=3D".
        const text = readFileSync(join(outbox, file), "utf8").replaceAll("=\r\n", "").replaceAll("=3D", "=");
        const match = text.match(new RegExp(`https?://[^\\s]*${path}\\?token=[A-Za-z0-9_-]+`));
        if (text.includes(`To: ${address}`) && match) {
          found = match[0];
          return found;
        }
      }
      return undefined;
    })
    .toBeTruthy();
  return new URL(found!).pathname + new URL(found!).search;
}

async function signUpThroughTheForm(page: Page, email: string) {
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

test("sign up, see who is signed in, sign out and in again", async ({ page }) => {
  const email = newEmail("signup");
  await page.goto("/signup");
  await hydrated(page);
  // Field-level errors, before anything is stored.
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill("too short");
  // The browser's own check (minlength) is bypassed to see the server's message.
  await page.locator("form").evaluate((f) => f.setAttribute("novalidate", ""));
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 10 characters for your password.")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/studio$/);
  await expect(page.locator(".account-menu")).toContainText(email);
  // On a wide screen, a round initial beside the name: its first letter, in capitals.
  const initial = page.locator(".site-menu__initial");
  if (await initial.isVisible()) {
    await expect(initial).toHaveText(email[0].toUpperCase(), { useInnerText: true });
  }

  await signOut(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  // A private page sends the visitor to sign in, and back afterwards.
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await hydrated(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("The email address or the password is not right.")).toBeVisible();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
});

test("the forms work without JavaScript", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const page = await context.newPage();
  const email = newEmail("nojs");
  await signUpThroughTheForm(page, email);
  await expect(page).toHaveURL(/\/studio$/);
  await expect(page.locator(".account-menu")).toContainText(email);
  // An error comes back to the form, next to the field.
  await page.goto("/settings");
  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password", { exact: true }).fill("another passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("That is not your current password.")).toBeVisible();
  await expect(page.getByLabel("Current password")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Display name").fill("Nora No-Script");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.locator(".account-menu")).toContainText("Nora No-Script");
  // An access token, shown once after the redirect, and it works.
  await page.goto("/settings");
  await page.locator("#tokens").getByLabel("Name").fill("no-script token");
  await page.getByRole("button", { name: "Create token" }).click();
  const value = page.getByLabel("New access token");
  await expect(value).toHaveValue(/^avs_/);
  const token = await value.inputValue();
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).email).toBe(email);
  await page.reload();
  await expect(page.getByLabel("New access token")).toHaveCount(0);
  await expect(page.locator("#tokens")).toContainText("no-script token");
  // Signing out from the header's menu (a <details>, open without JavaScript too).
  await signOut(page);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await context.close();
});

test("settings: provider keys, access tokens and sessions", async ({ page, browser, baseURL }) => {
  const email = newEmail("settings");
  await signUpThroughTheForm(page, email);
  await expect(page).toHaveURL(/\/studio$/);
  await page.goto("/settings");
  await hydrated(page);

  // A provider key: stored, then shown by its last four characters only.
  const openai = page.locator('.key-row[data-provider="openai"]');
  await openai.getByLabel("API key").fill("sk-e2e-secret-value-4321");
  await openai.getByRole("button", { name: "Save key" }).click();
  await expect(openai.locator(".key-last4")).toHaveText("4321");
  await expect(page.locator("body")).not.toContainText("sk-e2e-secret-value");
  await page.reload();
  await expect(openai.locator(".key-last4")).toHaveText("4321");
  expect(await page.content()).not.toContain("sk-e2e-secret-value");

  // An access token: shown once, listed by its prefix, used by a script, revoked.
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("e2e script");
  await page.getByRole("button", { name: "Create token" }).click();
  const tokenBox = page.getByLabel("New access token");
  await expect(tokenBox).toHaveValue(/^avs_/);
  const token = await tokenBox.inputValue();
  const tokens = page.getByRole("list", { name: "Access tokens" });
  await expect(tokens).toContainText("e2e script");
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect((await me.json()).email).toBe(email);
  await tokens.getByRole("button", { name: "Revoke token e2e script" }).click();
  await expect(page.getByText("No access tokens.")).toBeVisible();
  const after = await page.request.get("/api/v1/me", {
    headers: { Authorization: `Bearer ${token}` },
    failOnStatusCode: false,
  });
  expect(after.status()).toBe(401);

  // Sessions: another browser signs in, shows up, and is signed out from here.
  const other: BrowserContext = await browser.newContext({ baseURL });
  const login = await other.request.post("/api/v1/auth/login", {
    data: { email, password: PASSWORD },
    headers: { Origin: baseURL! },
  });
  expect(login.status()).toBe(200);
  await page.reload();
  const sessions = page.getByRole("list", { name: "Sessions" });
  await expect(sessions.getByRole("listitem")).toHaveCount(2);
  await expect(sessions).toContainText("this browser");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out everywhere else" }).click();
  await expect(page.getByText("Signed out 1 other session(s).")).toBeVisible();
  await expect(sessions.getByRole("listitem")).toHaveCount(1);
  const otherMe = await other.request.get("/api/v1/me", { failOnStatusCode: false });
  expect(otherMe.status()).toBe(401);
  await other.close();
});

test("verify the email address and reset a forgotten password through the mailed links", async ({ page }) => {
  const email = newEmail("reset");
  await signUpThroughTheForm(page, email);
  await expect(page).toHaveURL(/\/studio$/);

  await page.goto(await linkFromOutbox(email, "/verify-email"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByText("your email address is confirmed")).toBeVisible();
  await page.goto("/settings");
  await expect(page.locator("#profile")).toContainText("verified");

  await signOut(page);
  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  // The sign-in page, with a field of the same name, stays until the next one is in.
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByText("If an account exists for that address")).toBeVisible();

  const link = await linkFromOutbox(email, "/reset-password");
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("a new passphrase for e2e");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=1$/);
  await expect(page.getByText("Your password was changed")).toBeVisible();
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill("a new passphrase for e2e");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/studio$/);

  // The link works once.
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("yet another passphrase");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.getByText("This link has already been used.")).toBeVisible();
});

test("signing in works by keyboard alone", async ({ page, request, baseURL }) => {
  const email = newEmail("keys");
  const res = await request.post("/api/v1/auth/signup", {
    data: { email, password: PASSWORD },
    headers: { Origin: baseURL! },
  });
  expect(res.status()).toBe(201);
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email address").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/studio$/);
  await expect(page.locator(".account-menu")).toContainText(email);
});
