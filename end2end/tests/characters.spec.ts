// A character's tools beyond its sheet (issue 19 §2 and §5), offline with the built-in
// generator: variations, an edit with a prompt and its lineage, the public avatar link,
// imports on the character page, and the trash (restore as the avatar, delete for good).
import { test, expect } from "./fixtures";
import { BLUE, dropFiles, hydrated, RED, showDetails, signUp } from "./helpers";
import { png } from "./seed";

async function createCharacter(page: import("@playwright/test").Page, name: string, appearance = "") {
  await page.goto("/characters");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (appearance) await page.getByLabel("Appearance (optional)").fill(appearance);
  await page.getByLabel("Make an avatar now").uncheck();
  await page.getByRole("button", { name: "Create character" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await hydrated(page);
}

test("variations of a character, an edit with a prompt, and walking the lineage", async ({ page }) => {
  // Two variations and an edit, each 8 s in the built-in generator (global-setup.ts).
  test.slow();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signUp(page, "variations");
  await createCharacter(page, "Cleo", "short black hair, brown eyes");

  // The presets are listed, all ticked; two are kept.
  const section = page.getByRole("region", { name: "Variations" });
  await expect(section.getByLabel("Smiling")).toBeChecked();
  await expect(section.getByLabel("As pixel art")).toBeChecked();
  for (const label of ["Serious", "Three-quarter view", "Full body", "In winter clothes", "As a watercolour", "As pixel art"]) {
    await section.getByLabel(label).uncheck();
  }
  await section.getByRole("button", { name: "Make 2 variations" }).click();
  await expect(section.getByTestId("variations-progress")).toContainText("Making 2 variations");
  await expect(section.getByTestId("variations-progress")).toHaveText("Done: 2 new pictures below.", { timeout: 30_000 });
  const history = page.getByRole("region", { name: "Every image of Cleo" });
  await expect(history.getByRole("listitem")).toHaveCount(2);

  // Edit one in the gallery's lightbox: a new image, made from it.
  await page.goto("/gallery");
  await hydrated(page);
  const grid = page.getByRole("list", { name: "Images" });
  await expect(grid.getByRole("listitem")).toHaveCount(2);
  await page.getByRole("button", { name: "Open A portrait, smiling warmly" }).click();
  await showDetails(page);
  const dialog = page.getByRole("dialog");
  await dialog.getByText("Edit with a prompt").click();
  await dialog.getByLabel("What to change").fill("wearing a red hat");
  await dialog.getByRole("button", { name: "Edit", exact: true }).click();
  await expect(page.getByText("Editing: the new image appears here when it is done.")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(grid.getByRole("listitem")).toHaveCount(3);
  const edited = page.getByRole("button", { name: "Open wearing a red hat" });
  await expect(edited.locator("img")).toBeVisible({ timeout: 20_000 });

  // Its lineage: the image it was made from, and back.
  await edited.click();
  await showDetails(page);
  await expect(dialog.getByRole("heading", { name: "wearing a red hat" })).toBeVisible();
  const lineage = dialog.getByRole("region", { name: "Lineage" });
  await lineage.getByRole("button", { name: "Open the image this was made from: A portrait, smiling warmly" }).click();
  await expect(dialog.getByRole("heading", { name: "A portrait, smiling warmly" })).toBeVisible();
  await lineage.getByRole("button", { name: "Open an image made from this: wearing a red hat" }).click();
  await expect(dialog.getByRole("heading", { name: "wearing a red hat" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("a public avatar link, imports on the character page, and the trash for good", async ({ page }) => {
  test.slow();
  await signUp(page, "public");
  await createCharacter(page, "Bea");
  const characterPage = page.url();

  // Two uploads; the panel says the server's limit.
  await page.goto("/gallery");
  await hydrated(page);
  await page.getByRole("button", { name: "Upload images" }).click();
  await expect(page.getByTestId("upload-limit")).toHaveText("Up to 6.0 MB each; several at once.");
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "red sunset.png", base64: RED },
    { name: "blue sky.png", base64: BLUE },
    { name: "green field.png", base64: png(12, 8, [30, 160, 60]).toString("base64") },
  ]);
  const grid = page.getByRole("list", { name: "Images" });
  await expect(grid.getByRole("listitem")).toHaveCount(3);
  const dialog = page.getByRole("dialog");
  await page.getByRole("button", { name: "Open blue sky" }).click();
  await showDetails(page);
  await dialog.getByLabel("Use as avatar of").selectOption({ label: "Bea" });
  await expect(page.getByText("Now the avatar of Bea.")).toBeVisible();

  // Public: a link that opens without signing in, at any size of the ladder, until revoked.
  await page.goto(characterPage);
  await hydrated(page);
  const panel = page.getByRole("region", { name: "Public avatar link" });
  await panel.getByRole("button", { name: "Make the avatar public" }).click();
  const link = panel.getByTestId("public-avatar-url");
  await expect(link).toHaveValue(/\/avatars\/[A-Za-z0-9_-]{43}$/);
  const url = await link.inputValue();
  const anonymous = await fetch(url);
  expect(anonymous.status).toBe(200);
  expect(anonymous.headers.get("content-type")).toBe("image/png");
  expect((await fetch(`${url}?w=32&h=32&format=webp`)).headers.get("content-type")).toBe("image/webp");
  await expect(panel.getByLabel("To embed it")).toHaveValue(new RegExp(`<img src="${url}\\?w=256&amp;h=256"`));
  await panel.getByRole("button", { name: "Revoke the link" }).click();
  await expect(panel.getByRole("button", { name: "Make the avatar public" })).toBeVisible();
  expect((await fetch(url)).status).toBe(404);

  // An import from a private address is refused on the field, with a sentence.
  await page.getByLabel("Or import from a web address").fill("http://127.0.0.1:9/secret.png");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.getByText("That address points into a private or special network")).toBeVisible();

  // Both to the trash: the avatar remembers whose it was, and comes back as the avatar.
  await page.goto("/gallery");
  await hydrated(page);
  for (const name of ["red sunset", "blue sky", "green field"]) {
    await grid.getByRole("listitem").filter({ hasText: name }).getByRole("checkbox").check();
  }
  await page.getByRole("toolbar", { name: "Selected images" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("3 moved to the trash.")).toBeVisible();
  await page.getByRole("link", { name: "Trash" }).click();
  await expect(grid.getByRole("listitem")).toHaveCount(3);

  // One image deleted for good from the lightbox, after a question: its file is gone.
  await page.getByRole("button", { name: "Open green field" }).click();
  await showDetails(page);
  const greenSrc = await dialog.locator(".lightbox__stage img").getAttribute("src");
  const greenId = /\/media\/([0-9a-f-]+)/.exec(greenSrc!)![1];
  expect((await page.request.get(`/media/${greenId}`)).status()).toBe(200);
  await dialog.getByRole("button", { name: "Delete for good" }).click();
  await dialog.getByRole("group", { name: "Delete this image for good? This cannot be undone." }).getByRole("button", { name: "Delete for good" }).click();
  await expect(page.getByText("Deleted for good.")).toBeVisible();
  await expect(grid.getByRole("listitem")).toHaveCount(2);
  expect((await page.request.get(`/media/${greenId}`)).status()).toBe(404);
  expect((await page.request.get(`/api/v1/images/${greenId}`)).status()).toBe(404);
  await page.getByRole("button", { name: "Open blue sky" }).click();
  await showDetails(page);
  await dialog.getByRole("button", { name: "Restore as Bea’s avatar" }).click();
  await expect(page.getByText("Restored: the avatar of Bea again.")).toBeVisible();
  await expect(grid.getByRole("listitem")).toHaveCount(1);

  // Emptying the trash asks first; cancelling keeps everything.
  await page.getByRole("button", { name: "Empty the trash" }).click();
  const question = page.getByRole("group", { name: "Delete every image in the trash for good? This cannot be undone." });
  await expect(question.getByRole("button", { name: "Empty the trash" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(question).toHaveCount(0);
  await expect(grid.getByRole("listitem")).toHaveCount(1);
  await page.getByRole("button", { name: "Empty the trash" }).click();
  await question.getByRole("button", { name: "Empty the trash" }).click();
  await expect(page.getByText("The trash is empty: 1 image deleted for good.")).toBeVisible();
  await expect(page.getByText("The trash is empty.", { exact: true })).toBeVisible();

  // The avatar is in place on the character page.
  await page.goto(characterPage);
  await expect(page.getByRole("img", { name: "Avatar of Bea" }).first()).toBeVisible();
});
