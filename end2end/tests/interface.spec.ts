// The interface as people compare it with photo apps: a header that is one compact row,
// gallery filters that line up and apply as they change, and a lightbox whose image stays
// in sight on a phone, that zooms, swipes and keeps the keyboard inside it.
import { type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { BLUE, RED, hydrated, openMenu, showDetails, signInAsAdmin, signUp, signedInWithoutJs } from "./helpers";

/// Uploads two pictures through the API (as the page's session).
async function uploadTwo(page: Page) {
  const headers = { origin: new URL(page.url()).origin };
  for (const [name, png] of [["red sunset.png", RED], ["blue sky.png", BLUE]]) {
    const res = await page.request.post("/api/v1/uploads", {
      headers,
      multipart: { file: { name, mimeType: "image/png", buffer: Buffer.from(png, "base64") } },
    });
    expect(res.status()).toBe(201);
  }
}

/// The vertical middles of what the header's row shows.
async function rowMiddles(page: Page) {
  return page
    .locator(".site-header__inner > *:visible")
    .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)));
}

test("the header is one row: at most 64 px high on a phone, never wrapping at 1024 px", async ({ page, isMobile }) => {
  // A visitor's header: the product, "Sign in" and the menu, within the screen.
  await page.goto("/");
  await hydrated(page);
  expect((await page.locator(".site-header").boundingBox())!.height).toBeLessThanOrEqual(64);
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
  await expect(page.locator(".guest-actions").getByRole("link", { name: "Sign in" })).toBeInViewport();
  // The administrator's menu is the longest (it has "Operations").
  await signInAsAdmin(page);
  if (!isMobile) await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto("/gallery");
  await hydrated(page);
  // Measured with the live status shown (it is empty until the connection is up).
  await expect(page.locator(".live-status__state")).toHaveAttribute("data-state", "Live");
  const header = page.locator(".site-header");
  expect((await header.boundingBox())!.height).toBeLessThanOrEqual(64);
  const middles = await rowMiddles(page);
  expect(middles.length).toBeGreaterThanOrEqual(isMobile ? 3 : 4);
  expect(Math.max(...middles) - Math.min(...middles), "every part on one row").toBeLessThanOrEqual(2);
  if (isMobile) {
    // The sections and the account are behind the menu button.
    await expect(page.locator(".site-nav")).toBeHidden();
    const menu = await openMenu(page);
    for (const name of ["Studio", "Characters", "Gallery", "Collections", "Settings", "Operations"]) {
      await expect(menu.getByRole("link", { name, exact: true })).toBeVisible();
    }
    await expect(menu.getByRole("button", { name: "Sign out" })).toBeVisible();
    // It closes on a click outside (below the open menu).
    await page.mouse.click(180, 720);
    await expect(page.locator("details.site-menu")).not.toHaveAttribute("open", "");
  } else {
    // Every section in sight (none scrolled away), the account in its menu.
    const nav = page.locator(".site-nav ul");
    expect(await nav.evaluate((ul) => ul.scrollWidth <= ul.clientWidth)).toBe(true);
    await expect(page.locator(".site-nav").getByRole("link")).toHaveCount(4);
    await expect(page.getByRole("button", { name: "Sign out" })).toBeHidden();
    const menu = await openMenu(page);
    await expect(menu.getByRole("link", { name: "Operations" })).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(menu).not.toHaveAttribute("open", "");
    await expect(menu.locator("summary")).toBeFocused();
  }
});

test("the gallery's filters line up and apply as they change, in the address", async ({ page, isMobile }) => {
  await signUp(page, "filters");
  await uploadTwo(page);
  await page.goto("/gallery");
  await hydrated(page);
  const filters = page.getByRole("search");
  // "Favourites" is one line of text, not a letter per line.
  const lines = await filters.locator(".filters__check").evaluate((label) => {
    const text = [...label.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())!;
    const range = document.createRange();
    range.selectNodeContents(text);
    return range.getClientRects().length;
  });
  expect(lines).toBe(1);
  // The fields' bottoms line up (on a phone: the two selects, under the search).
  const bottoms = await filters
    .locator(isMobile ? "select" : "input[type=search], select, .filters__check")
    .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().bottom)));
  expect(Math.max(...bottoms) - Math.min(...bottoms)).toBeLessThanOrEqual(1);

  // No "Apply": typing searches after a pause, and the address says so.
  await expect(filters.getByRole("button", { name: "Apply" })).toBeHidden();
  const grid = page.getByRole("list", { name: "Images" });
  await expect(grid.getByRole("listitem")).toHaveCount(2);
  await filters.getByRole("searchbox").pressSequentially("sunset", { delay: 40 });
  await expect(page).toHaveURL(/[?&]q=sunset(&|$)/);
  await expect(grid.getByRole("listitem")).toHaveCount(1);
  await expect(filters.getByRole("searchbox")).toBeFocused();
  await expect(filters.getByRole("searchbox")).toHaveValue("sunset");
  await filters.getByLabel("Favourites").check();
  await expect(page).toHaveURL(/[?&]favorite=true/);
  await expect(page.getByText("No image matches these filters.")).toBeVisible();
  // The address was replaced, not pushed: "Back" leaves the gallery in one step.
  await page.goBack();
  await expect(page).not.toHaveURL(/\/gallery/);
});

test("without JavaScript the filters apply with their button", async ({ browser, baseURL }) => {
  const page = await signedInWithoutJs(browser, baseURL!, "nojs-filters");
  await page.getByRole("searchbox").fill("lighthouse");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/[?&]q=lighthouse(&|$)/);
  await expect(page.getByText("No image matches these filters.")).toBeVisible();
  await page.context().close();
});

test("the lightbox keeps its image in sight, zooms, swipes and holds the keyboard", async ({ page, isMobile }) => {
  await signUp(page, "lightbox");
  await uploadTwo(page);
  await page.goto("/gallery");
  await hydrated(page);
  const opener = page.getByRole("button", { name: "Open red sunset" });
  await opener.click();
  const dialog = page.getByRole("dialog", { name: "red sunset" });
  const picture = dialog.locator(".lightbox__stage img");
  await expect(picture).toBeInViewport();
  await showDetails(page);
  // The title line is the title, and renaming happens in place.
  await expect(dialog.getByRole("heading", { name: "red sunset" })).toBeVisible();
  await expect(dialog.getByLabel("Title")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Rename" }).click();
  await expect(dialog.getByLabel("Title")).toBeFocused();
  // A field focused in the details does not push the image out of sight.
  await expect(picture).toBeInViewport();
  await page.keyboard.press("Escape");
  await expect(dialog.getByRole("button", { name: "Rename" })).toBeFocused();

  // Tab goes round the dialog, never behind it.
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => !!document.activeElement?.closest(".lightbox__body"))).toBe(true);
  }

  // Zoom: the original itself, at its full resolution (64 × 48).
  await dialog.getByRole("button", { name: "Zoom", exact: true }).click();
  const full = dialog.locator(".lightbox__picture--full img");
  await expect(full).toHaveAttribute("src", /^\/media\/[0-9a-f-]+$/);
  await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
  await dialog.getByRole("button", { name: "Fit", exact: true }).click();

  // A swipe to the left is the next image (of two: the other one).
  const count = page.locator(".lightbox__count");
  const before = await count.textContent();
  const stage = dialog.locator(".lightbox__stage");
  const box = (await stage.boundingBox())!;
  const y = box.y + box.height / 2;
  await stage.dispatchEvent("pointerdown", { clientX: box.x + box.width * 0.8, clientY: y, pointerId: 1, isPrimary: true });
  await stage.dispatchEvent("pointerup", { clientX: box.x + box.width * 0.2, clientY: y, pointerId: 1, isPrimary: true });
  await expect(page.getByRole("dialog", { name: "blue sky" })).toBeVisible();
  await expect(count).not.toHaveText(before!);

  // Escape closes it, and the focus is on the tile of the image last shown.
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Open blue sky" })).toBeFocused();
  void isMobile;
});

test("a finished job is announced once, politely, on the page that shows it", async ({ page }) => {
  await signUp(page, "announce");
  await page.goto("/studio");
  await hydrated(page);
  await expect(page.locator(".live-status__state")).toHaveAttribute("data-state", "Live");
  await page.getByLabel("Prompt", { exact: true }).fill("A lighthouse at dawn");
  await page.getByRole("button", { name: "Generate" }).click();
  const announcer = page.getByTestId("announcer");
  await expect(announcer).toHaveAttribute("aria-live", "polite");
  await expect(announcer).toHaveText(/^An image from .+ is ready\.$/, { timeout: 20_000 });
  // The ticking job list says nothing to a screen reader by itself (its only live
  // regions are the cards' replies to what the person does, empty here).
  const spoken = await page
    .getByRole("list", { name: "Jobs" })
    .locator("[aria-live]")
    .evaluateAll((els) => els.map((e) => e.textContent!.trim()).filter((t) => t));
  expect(spoken).toEqual([]);
});
