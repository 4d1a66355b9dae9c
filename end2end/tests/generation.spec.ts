import { test, expect } from "./fixtures";
import { dropFiles, hydrated, moreOptions, RED, signUp } from "./helpers";

test("a character gets an avatar made with its prompt and settings", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await signUp(page, "avatar");
  await page.goto("/characters");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("Merlin");
  await page.getByLabel("Avatar prompt (optional)").fill("An old wizard with a blue hat and glasses");
  await page.getByLabel("Make an avatar now").uncheck();
  await page.getByRole("button", { name: "Create character" }).click();
  await expect(page.getByRole("heading", { name: "Merlin", level: 1 })).toBeVisible();
  await hydrated(page);

  // Settings from the catalogue: the sizes follow the model chosen.
  await page.getByText("Avatar settings").click();
  const model = page.getByLabel("Provider and model");
  await expect(model.locator("option", { hasText: "DALL·E 3 (add a key in Settings)" })).toHaveCount(1);
  await model.selectOption({ label: "DALL·E 3 (add a key in Settings)" });
  await expect(page.getByLabel("Size").locator("option", { hasText: "1792x1024" })).toHaveCount(1);
  await model.selectOption({ label: "Portrait (offline)" });
  await page.getByLabel("Size").selectOption("512x512");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Settings saved.")).toBeVisible();

  // Make it: the button says what is happening, then the avatar is in place.
  await page.getByRole("button", { name: "Make a new avatar" }).click();
  await expect(page.getByText("Done: the new avatar is in place.")).toBeVisible({ timeout: 20_000 });
  const avatar = page.getByRole("img", { name: "Avatar of Merlin" }).first();
  await expect(avatar).toBeVisible();
  await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // The history lists it as the current avatar.
  await expect(page.getByText("Current avatar")).toBeVisible();

  // Saving the details shows the new name in place: the page is not rebuilt, so what was
  // on it stays (the avatar, the settings chosen, the job's card).
  await page.getByLabel("Name", { exact: true }).fill("Merlin the Grey");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Merlin the Grey", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Every image of Merlin the Grey" })).toBeVisible();
  await expect(page).toHaveTitle(/^Merlin the Grey/);
  await expect(page.getByRole("img", { name: "Avatar of Merlin the Grey" }).first()).toBeVisible();
  await expect(page.getByLabel("Size")).toHaveValue("512x512");
  await expect(page.getByText("Done: the new avatar is in place.")).toBeVisible();
  // And it was saved.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Merlin the Grey", level: 1 })).toBeVisible();
  expect(errors).toEqual([]);
});

test("a character's sheet keeps it the same person, and the Studio says what each model gets", async ({ page }, testInfo) => {
  // Sign-up, a character, its sheet and two generations through the Studio: 20 to 22 s
  // against the release server on a two-core machine running two browsers, 25 to 32 s
  // against the debug one the test suite builds, beside the default 30 s limit.
  test.slow();
  await signUp(page, "sheet");
  await page.goto("/characters");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("Ada");
  await page.getByLabel("Appearance (optional)").fill("Long curly red hair, green eyes, pale skin");
  await page.getByRole("button", { name: "Create character" }).click();
  await expect(page.getByRole("heading", { name: "Ada", level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel("Appearance", { exact: true })).toHaveValue("Long curly red hair, green eyes, pale skin");

  // "Make an avatar now" (ticked by default): two candidates from the sheet (no avatar
  // prompt: a portrait from it); the first to finish is the avatar, the other can be chosen.
  await expect(page.getByText("Done: the new avatar is in place.")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("Current avatar")).toHaveCount(1);
  const history = page.locator("section", { has: page.getByRole("heading", { name: "Every image of Ada" }) });
  await expect(history.locator("li.tile")).toHaveCount(2);
  await expect(history.getByRole("button", { name: "Use as avatar" })).toHaveCount(1);
  // Both candidates finished (each finished job re-reads the list, and a click on a tile
  // being replaced would be lost).
  await expect(history.locator("li.tile img")).toHaveCount(2, { timeout: 30_000 });
  // Without a prompt, the button still makes another.
  await expect(page.getByText("No avatar prompt saved")).toBeVisible();
  await expect(page.getByRole("button", { name: "Make a new avatar" })).toBeEnabled();
  await history.getByRole("button", { name: "Use as avatar" }).click();
  await expect(page.getByText("Avatar changed.")).toBeVisible();
  // From here on, the page as the server has it: no job of the character still on its way
  // (a job finishing re-reads the list of images, and a click on a tile being replaced
  // would be lost).
  await page.reload();
  await hydrated(page);
  // Until others are chosen, the avatar is the identity reference.
  const avatarTile = history.locator("li.tile", { hasText: "Current avatar" });
  const identity = avatarTile.getByRole("button", { name: "Identity reference" });
  await expect(identity).toHaveAttribute("aria-pressed", "true");
  await expect(history.getByRole("button", { name: "Identity reference", pressed: true })).toHaveCount(1);
  await identity.click();
  await expect(identity).toHaveAttribute("aria-pressed", "false");
  await identity.click();
  await expect(identity).toHaveAttribute("aria-pressed", "true");
  await page.reload();
  await expect(history.getByRole("button", { name: "Identity reference", pressed: true })).toHaveCount(1);

  // A new image is read into the list in place: the rows already there keep their
  // elements (so a click on one is not lost while the list is read again).
  await hydrated(page);
  await history.locator("li.tile").evaluateAll((tiles) => tiles.forEach((t) => ((t as unknown as { kept: boolean }).kept = true)));
  await dropFiles(page, "[data-testid=dropzone]", [{ name: "red sunset.png", base64: RED }]);
  await expect(history.locator("li.tile")).toHaveCount(3);
  await expect(history.locator("li.tile", { hasText: "red sunset" })).toHaveCount(1);
  expect(await history.locator("li.tile").evaluateAll((tiles) => tiles.filter((t) => (t as unknown as { kept?: boolean }).kept).length)).toBe(2);

  // The Studio: with the character chosen, each model says what it gets.
  await page.goto("/studio");
  await hydrated(page);
  const hint = page.getByTestId("sheet-hint");
  await expect(hint).toHaveCount(0);
  await moreOptions(page);
  await page.getByLabel("Character (optional)").selectOption({ label: "Ada" });
  await expect(hint).toHaveText("Portrait (offline) gets the character's appearance and up to 4 of its identity images.");
  await page.getByLabel("Provider and model").selectOption({ label: "DALL·E 3 (add a key in Settings)" });
  await expect(hint).toContainText("DALL·E 3 takes no reference images: it gets the character's description only");
  await page.getByLabel("Provider and model").selectOption({ label: "Portrait (offline)" });

  // Two images of Ada in two scenes: the same person (saved in the report to look at).
  await expect(page.locator(".live-status__state")).toHaveAttribute("data-state", "Live");
  await page.getByLabel("Prompt", { exact: true }).fill("Smiling, in green winter clothes");
  await page.getByLabel("Images", { exact: true }).fill("2");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const scenes = page
    .getByRole("list", { name: "Jobs" })
    .locator('li.job[data-status="completed"]', { hasText: "Smiling, in green winter clothes" });
  await expect(scenes.locator(".job__media img")).toHaveCount(2, { timeout: 30_000 });
  // Kept on disk (end2end/test-results/…/two-images-of-one-character.png) as well as attached.
  const shot = testInfo.outputPath("two-images-of-one-character.png");
  await page.getByRole("list", { name: "Jobs" }).screenshot({ path: shot });
  await testInfo.attach("two images of one character", { path: shot, contentType: "image/png" });
});
