import { test, expect } from "./fixtures";
import { BLUE, dropFiles, hydrated, RED, showDetails, signUp } from "./helpers";

test("upload by drag and drop, browse, organise, trash, restore and pick an avatar", async ({ page }) => {
  // The longest flow of the suite (six pages, three of them twice): 25 to 30 s on a
  // two-core machine running two browsers, beside the default 30 s limit.
  test.slow();
  // Hydration problems show up as console errors: there must be none.
  const errors: string[] = [];
  page.on("console", (m) => {
    // A refused request (the import below) is logged by the browser itself; that is not a fault.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await signUp(page, "library");

  // A character to give an avatar to.
  await page.goto("/characters");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("Ada");
  await page.getByLabel("Make an avatar now").uncheck();
  await page.getByRole("button", { name: "Create character" }).click();
  await expect(page.getByRole("heading", { name: "Ada", level: 1 })).toBeVisible();

  // Two images, dropped on the gallery's upload zone; each shows its own progress.
  await page.goto("/gallery");
  await hydrated(page);
  await expect(page.getByText("No images yet.")).toBeVisible();
  await page.getByRole("button", { name: "Upload images" }).click();
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "red sunset.png", base64: RED },
    { name: "blue sky.png", base64: BLUE },
  ]);
  const uploads = page.getByRole("list", { name: "Uploads" });
  await expect(uploads.getByText("Uploaded")).toHaveCount(2);
  const grid = page.getByRole("list", { name: "Images" });
  await expect(grid.getByRole("listitem")).toHaveCount(2);
  await expect(grid.getByText("red sunset", { exact: true })).toBeVisible();
  // Thumbnails are variants, never the originals.
  const src = await grid.locator("img").first().getAttribute("src");
  expect(src).toMatch(/\/media\/[0-9a-f-]+\?w=\d+/);

  // The lightbox, by keyboard.
  await page.getByRole("button", { name: "Open red sunset" }).click();
  await showDetails(page);
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("heading", { name: "red sunset" })).toBeVisible();
  await expect(dialog.getByText("64 × 48 px")).toBeVisible();
  await page.keyboard.press("ArrowRight");
  await expect(dialog.getByRole("heading", { name: "blue sky" })).toBeVisible();
  await page.keyboard.press("ArrowLeft");
  await expect(dialog.getByRole("heading", { name: "red sunset" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);

  // A new collection, and the red image moved into it.
  await page.goto("/collections");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("Warm colours");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { name: "Warm colours" })).toBeVisible();
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Open red sunset" }).click();
  await showDetails(page);
  await dialog.getByLabel("Collection").selectOption({ label: "Warm colours" });
  await expect(page.getByText("Moved.")).toBeVisible();
  await dialog.getByRole("button", { name: "Make collection cover" }).click();
  await expect(page.getByText("Now the cover of Warm colours.")).toBeVisible();
  await page.goto("/collections");
  await expect(page.getByText("1 image")).toBeVisible();
  await expect(page.getByRole("img", { name: "Cover of Warm colours" })).toBeVisible();

  // Delete it, find it in the trash, restore it.
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Open red sunset" }).click();
  await showDetails(page);
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("Moved to the trash.")).toBeVisible();
  await expect(grid.getByRole("listitem")).toHaveCount(1);
  await page.getByRole("link", { name: "Trash" }).click();
  await expect(grid.getByText("red sunset", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Open red sunset" }).click();
  await showDetails(page);
  await dialog.getByRole("button", { name: "Restore" }).click();
  await expect(page.getByText("Restored.")).toBeVisible();
  await page.getByRole("link", { name: "Back to the gallery" }).click();
  await expect(grid.getByRole("listitem")).toHaveCount(2);

  // The blue one becomes Ada's avatar.
  await page.getByRole("button", { name: "Open blue sky" }).click();
  await showDetails(page);
  await dialog.getByLabel("Use as avatar of").selectOption({ label: "Ada" });
  await expect(page.getByText("Now the avatar of Ada.")).toBeVisible();
  await page.goto("/characters");
  const avatar = page.getByRole("img", { name: "Avatar of Ada" });
  await expect(avatar).toBeVisible();
  expect(await avatar.getAttribute("src")).toMatch(/\/media\/[0-9a-f-]+\?w=64&h=64/);
  // It really loads (a variant, rendered by the server).
  await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // The home page sums the library up.
  await page.goto("/");
  const dashboard = page.getByRole("region", { name: "Your library" });
  await expect(dashboard).toBeVisible();
  await expect(dashboard.locator("div", { hasText: "Uploaded" }).locator("dd")).toHaveText("2");
  await expect(dashboard.getByText("1 of 1")).toBeVisible();

  // Rename, and a link that opens without signing in.
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Open blue sky" }).click();
  await showDetails(page);
  await dialog.getByRole("button", { name: "Rename" }).click();
  await expect(dialog.getByLabel("Title")).toBeFocused();
  await dialog.getByLabel("Title").fill("Sky at noon");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Renamed.")).toBeVisible();
  await expect(dialog.getByRole("heading", { name: "Sky at noon" })).toBeVisible();
  const links = dialog.getByRole("region", { name: "Share links" });
  await expect(links.getByText("No share links.")).toBeVisible();
  await links.getByLabel("Link works for").selectOption({ label: "7 days" });
  await links.getByRole("button", { name: "Make a share link" }).click();
  const link = links.getByLabel("Share link");
  await expect(link).toHaveCount(1);
  const shared = await link.inputValue();
  const anonymous = await fetch(shared);
  expect(anonymous.status).toBe(200);
  expect(anonymous.headers.get("content-type")).toBe("image/png");
  // Revoked from the lightbox: the link no longer opens the image.
  await links.getByRole("button", { name: "Revoke" }).click();
  await expect(links.getByText(/^Revoked /)).toBeVisible();
  await expect(link).toHaveCount(0);
  expect((await fetch(shared)).status).toBe(404);
  await page.keyboard.press("Escape");

  // Imports refuse private addresses, and say so.
  await page.getByRole("button", { name: "Upload images" }).click();
  await page.getByLabel("Or import from a web address").fill("http://127.0.0.1:9/secret.png");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.getByText("That address points into a private or special network")).toBeVisible();

  // A fresh load of the gallery with images and collections hydrates cleanly.
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Open Sky at noon" }).click();
  await showDetails(page);
  await expect(page.getByRole("dialog").getByRole("heading", { name: "Sky at noon" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("a file that is not an image is refused with a sentence", async ({ page }) => {
  await signUp(page, "refuse");
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Upload images" }).click();
  await dropFiles(page, "[data-testid=dropzone]", [{ name: "notes.png", base64: btoa("just text, not a picture") }]);
  await expect(page.getByText("notes.png: This is not a PNG, JPEG or WebP image.")).toBeVisible();
  await expect(page.getByText("No images yet.")).toBeVisible();
});
