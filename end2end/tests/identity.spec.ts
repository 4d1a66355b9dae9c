// Sign-in through an identity provider (issue 18), against panva's oidc-provider started by
// global-setup.ts as "Corp SSO": by clicking, on desktop and phone, and linking and
// unlinking in Settings.
import { type Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { hydrated, signUp } from "./helpers";

/// A user name at the provider nobody used before (its address is NAME@example.com).
function newLogin(tag: string) {
  return `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/// Signs in at the provider's own page, as a person would.
async function atProvider(page: Page, login: string) {
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("User name").fill(login);
  await page.getByRole("button", { name: "Continue" }).click();
}

test("signs in with the identity provider by clicking, and comes back where it started", async ({ page }) => {
  const login = newLogin("sso");
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await hydrated(page);
  const button = page.getByRole("link", { name: "Sign in with Corp SSO" });
  await expect(button).toBeVisible();
  await button.click();
  await atProvider(page, login);
  await expect(page).toHaveURL(/\/settings$/);
  // The provider's name for the person is the display name.
  await expect(page.locator(".account-menu")).toContainText(login);
  // The account was made by the provider: no password yet, the identity listed.
  const methods = page.locator("#sign-in-methods");
  await expect(methods.getByRole("heading", { name: "Set a password" })).toBeVisible();
  await expect(methods.locator(".identity-list__item")).toContainText("Corp SSO");
  // Its only way in cannot be unlinked.
  await expect(methods.getByRole("button", { name: "Unlink Corp SSO" })).toBeDisabled();
});

test("the sign-in and sign-up pages reached by a click within the app offer the provider too", async ({ page, isMobile }) => {
  await page.goto("/");
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  // The header's way in: a button on a wide screen, in the menu on a phone.
  if (isMobile) {
    await page.locator("details.site-menu > summary").click();
    await page.locator(".site-menu__panel").getByRole("link", { name: "Sign in" }).click();
  } else {
    await page.locator(".guest-actions").getByRole("link", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: "Sign in", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in with Corp SSO" })).toBeVisible();
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create an account", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign up with Corp SSO" })).toBeVisible();
  // And the home page, reached the same way, tells what this instance offers.
  await page.getByRole("link", { name: "Avatar Studio" }).first().click();
  await expect(page.getByTestId("instance-info")).toContainText("builtin");
  // All of it without loading a page afresh.
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
});

test("the provider's page can be reached and used with the keyboard only", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  const button = page.getByRole("link", { name: "Sign in with Corp SSO" });
  await button.focus();
  await page.keyboard.press("Enter");
  await atProvider(page, newLogin("keys"));
  await expect(page).toHaveURL(/\/studio$/);
});

test("links a provider in Settings and unlinks it", async ({ page }) => {
  await signUp(page, "linker");
  await page.goto("/settings#sign-in-methods");
  await hydrated(page);
  const methods = page.locator("#sign-in-methods");
  await expect(methods.getByText("No identity provider is linked.")).toBeVisible();
  await methods.getByRole("button", { name: "Link Corp SSO" }).click();
  await atProvider(page, newLogin("linked"));
  await expect(page).toHaveURL(/\/settings\?linked=corp#sign-in-methods$/);
  await expect(methods.getByText("Corp SSO is linked: you can sign in with it from now on.")).toBeVisible();
  const row = methods.locator(".identity-list__item");
  await expect(row).toContainText("Corp SSO");
  // The account has a password, so the identity may go.
  await hydrated(page);
  await methods.getByRole("button", { name: "Unlink Corp SSO" }).click();
  await expect(row).toHaveCount(0);
  await expect(methods.getByText("No identity provider is linked.")).toBeVisible();
  await expect(methods.getByRole("button", { name: "Link Corp SSO" })).toBeVisible();
});

test("a cancelled sign-in ends on the sign-in page with a sentence", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/login\?error=denied$/);
  await expect(page.getByText("The sign-in was cancelled at the identity provider")).toBeVisible();
});
