// The interface as people compare it with photo apps: a header that is one compact row,
// gallery filters that line up and apply as they change, and a lightbox whose image stays
// in sight on a phone, that zooms (by a click, two fingers or a trackpad's pinch), swipes
// and keeps the keyboard inside it.
import { type Locator, type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { BLUE, RED, hydrated, openMenu, showDetails, signInAsAdmin, signUp, signedInWithoutJs } from "./helpers";
import { png } from "./seed";

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

/// Which spot of the image (as fractions of its width and height) is at `x, y` on screen.
async function spotAt(img: Locator, x: number, y: number) {
  const r = (await img.boundingBox())!;
  return { fx: (x - r.x) / r.width, fy: (y - r.y) / r.height };
}

test("a pinch opens the original around the fingers, and pinching back fits it again", async ({ page, isMobile }) => {
  await signUp(page, "pinch");
  // A large original (2400 × 1800), so that its full resolution is far bigger than the screen.
  const res = await page.request.post("/api/v1/uploads", {
    headers: { origin: new URL(page.url()).origin },
    multipart: { file: { name: "wide field.png", mimeType: "image/png", buffer: png(2400, 1800, [40, 120, 60]) } },
  });
  expect(res.status()).toBe(201);
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Open wide field" }).click();
  const dialog = page.getByRole("dialog", { name: "wide field" });
  const fit = dialog.locator(".lightbox__picture:not(.lightbox__picture--full) img");
  await expect.poll(() => fit.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const box = (await fit.boundingBox())!;
  // Over the lower right part of the picture: three quarters across, two thirds down.
  const x = box.x + box.width * 0.75;
  const y = box.y + box.height * (2 / 3);
  const full = dialog.locator(".lightbox__picture--full img");

  if (isMobile) {
    // Two real touches through Chromium's input pipeline (so `touch-action` applies).
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: string, spread: number | null, at = x) =>
      cdp.send("Input.dispatchTouchEvent", {
        type,
        touchPoints: spread === null ? [] : [
          { x: at - spread, y, id: 1 },
          { x: at + spread, y, id: 2 },
        ],
      });
    await touch("touchStart", 20);
    for (let spread = 30; spread <= 80; spread += 10) await touch("touchMove", spread);
    // While the fingers move, the picture follows them.
    expect(await fit.evaluate((img) => getComputedStyle(img.parentElement!).transform)).toMatch(/^matrix\(4(\.0*)?, /);
    await touch("touchEnd", null);
    await expect(full).toHaveAttribute("src", /^\/media\/[0-9a-f-]+$/);
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2400);
    // At its full size, and the spot the fingers spread over is still under them.
    expect((await full.boundingBox())!.width).toBeCloseTo(2400, 0);
    await expect.poll(async () => Math.abs((await spotAt(full, x, y)).fx - 0.75)).toBeLessThan(0.03);
    expect(Math.abs((await spotAt(full, x, y)).fy - 2 / 3)).toBeLessThan(0.03);
    // One finger moves the original about (and is no click back to the fit).
    const stage = dialog.locator(".lightbox__stage");
    const scrolled = () => stage.evaluate((el) => el.scrollLeft);
    const before = await scrolled();
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: 200, y, id: 3 }] });
    for (let dx = 20; dx <= 100; dx += 20) {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: 200 - dx, y, id: 3 }] });
    }
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await expect.poll(scrolled).toBeCloseTo(before + 100, 0);
    await expect(full).toBeVisible();
    // Pinching the original goes back to the fitted picture.
    const middle = box.x + box.width / 2;
    await touch("touchStart", 100, middle);
    for (let spread = 90; spread >= 40; spread -= 10) await touch("touchMove", spread, middle);
    await touch("touchEnd", null);
  } else {
    // A trackpad's pinch reaches the page as a wheel turned with Ctrl held.
    await page.mouse.move(x, y);
    await page.keyboard.down("Control");
    await page.mouse.wheel(0, -120);
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2400);
    await expect.poll(async () => Math.abs((await spotAt(full, x, y)).fx - 0.75)).toBeLessThan(0.03);
    expect(Math.abs((await spotAt(full, x, y)).fy - 2 / 3)).toBeLessThan(0.03);
    // The page itself was not zoomed.
    expect(await page.evaluate(() => window.visualViewport?.scale ?? 1)).toBe(1);
    await page.mouse.wheel(0, 120);
    await page.keyboard.up("Control");
  }
  await expect(full).toHaveCount(0);
  await expect(dialog.getByRole("button", { name: "Zoom", exact: true })).toBeVisible();
  await expect(fit).toBeInViewport();
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
