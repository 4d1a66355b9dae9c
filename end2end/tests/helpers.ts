// What several suites share: the test password, a fresh address, waiting for hydration,
// and signing up through the form.
import { expect, type Browser, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export function newEmail(tag: string) {
  return `${tag}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
}

export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/// Signs a fresh account up through the form; the page ends signed in.
/// Signs a new account up through the page; answers its email address.
export async function signUp(page: Page, tag: string): Promise<string> {
  const email = newEmail(tag);
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expectSignedIn(page);
  return email;
}

/// The header shows an account: the menu is the account's, not a visitor's.
export async function expectSignedIn(page: Page) {
  await expect(page.locator("details.site-menu:not(.site-menu--guest)")).toHaveCount(1);
}

/// Opens the header's menu (the account's on a wide screen; every section on a phone).
export async function openMenu(page: Page) {
  const menu = page.locator("details.site-menu");
  if ((await menu.getAttribute("open")) === null) await menu.locator("summary").click();
  await expect(menu).toHaveAttribute("open", "");
  return menu;
}

/// Goes to a section the way a person would: its link in the header, or in the menu on a
/// phone (and "Settings" and "Operations" are always in the menu).
export async function goToSection(page: Page, name: string) {
  const inline = page.locator(".site-nav").getByRole("link", { name, exact: true });
  if (await inline.isVisible()) {
    await inline.click();
    return;
  }
  const menu = await openMenu(page);
  await menu.getByRole("link", { name, exact: true }).click();
}

/// Signs out through the header's menu.
export async function signOut(page: Page) {
  const menu = await openMenu(page);
  await menu.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.locator("details.site-menu--guest")).toHaveCount(1);
}

// Two small PNGs (64×48 red, 48×64 blue).
export const RED =
  "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAAZElEQVR4nO3PUQkAIBTAwBfMEPbHMIbw4xAGC3Cbs9fXDRc0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rw2AWJouDx0VbXfQAAAABJRU5ErkJggg==";
export const BLUE =
  "iVBORw0KGgoAAAANSUhEUgAAADAAAABACAIAAADTQmMRAAAATUlEQVR4nO3OQQ0AIAwAsclBImIRgwuOR5MK6Kx9vjL5QEhISKgeCAkJCdUDISEhoXogJCQkVA+EhISE6oGQkJBQPRASEhKqB0JCQo9dn5zRAEoKym8AAAAASUVORK5CYII=";

/// Drops files on an element, as a person dragging them from their desktop would.
export async function dropFiles(page: Page, selector: string, files: { name: string; base64: string }[]) {
  const transfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: "image/png" }));
    }
    return dt;
  }, files);
  await page.dispatchEvent(selector, "dragenter", { dataTransfer: transfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer: transfer });
}

/// Signs in as the suite's administrator (made by global-setup.ts before the server starts).
export async function signInAsAdmin(page: Page) {
  await page.goto("/login");
  await page.getByLabel("Email address").fill(process.env.E2E_ADMIN_EMAIL!);
  await page.getByLabel("Password").fill(process.env.E2E_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expectSignedIn(page);
}

/// On a phone the lightbox's details are in a sheet under the image: pulls it up.
export async function showDetails(page: Page) {
  // The lightbox's code may still be on its way (it is its own chunk): wait for the dialog
  // before asking whether its handle shows, or a phone's details would stay folded.
  await expect(page.getByRole("dialog")).toBeVisible();
  const handle = page.getByRole("dialog").getByRole("button", { name: "Details" });
  if (await handle.isVisible()) {
    await handle.click();
    await expect(handle).toHaveAttribute("aria-expanded", "true");
  }
}

/// On a phone the Studio's less used fields are under "More options": opens it.
export async function moreOptions(page: Page) {
  const details = page.locator("details.more-options");
  const summary = details.locator("> summary");
  if ((await summary.isVisible()) && (await details.getAttribute("open")) === null) {
    await summary.click();
    await expect(details).toHaveAttribute("open", "");
  }
}

/// A browser without JavaScript, signed in as a new account (signed up through the API):
/// answers its page, on /gallery.
export async function signedInWithoutJs(browser: Browser, baseURL: string, tag: string) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const res = await context.request.post("/api/v1/auth/signup", {
    data: { email: newEmail(tag), password: PASSWORD },
    headers: { Origin: baseURL },
  });
  expect(res.status()).toBe(201);
  const page = await context.newPage();
  await page.goto("/gallery");
  return page;
}
