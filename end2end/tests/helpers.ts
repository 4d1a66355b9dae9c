// What several suites share: the test password, a fresh address, waiting for hydration,
// and signing up through the form.
import { expect, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export function newEmail(tag: string) {
  return `${tag}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
}

export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/// Signs a fresh account up through the form; the page ends signed in.
export async function signUp(page: Page, tag: string) {
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(newEmail(tag));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}
