import { test, expect } from "./fixtures";
import { hydrated, signUp } from "./helpers";

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
