// Comparing models (issue 19 §3) and the default model (§4), against the fake OpenAI and
// Gemini (the fakes crate's `fake-providers`, started by global-setup.ts). With keys for
// both saved, the Studio starts on the best model; one prompt goes to three models at once
// and the results stand side by side with the time and the cost of each; one is kept (into a
// collection) and the others go to the trash in one click.
import { expect, test } from "./fixtures";
import { hydrated, moreOptions, signUp } from "./helpers";

test("one prompt to three models side by side, with time and cost; keep one, trash the others", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signUp(page, "compare");
  await page.goto("/settings");
  await hydrated(page);
  for (const [provider, key] of [
    ["openai", "sk-fake-openai-0123456789"],
    ["gemini", "AIza-fake-gemini-0123456789"],
  ]) {
    const row = page.locator(`.key-row[data-provider="${provider}"]`);
    await row.getByLabel("API key").fill(key);
    await row.getByRole("button", { name: "Save key" }).click();
    await expect(row.locator(".key-last4")).toHaveText("6789");
  }

  const made = await page.request.post("/api/v1/collections", {
    headers: { origin: new URL(page.url()).origin },
    data: { name: "Lighthouses" },
  });
  expect(made.status()).toBe(201);
  const collection = await made.json();

  await page.goto("/studio");
  await hydrated(page);
  await expect(page.locator(".live-status__state")).toHaveAttribute("data-state", "Live");
  // The best model with a key is the default.
  await expect(page.getByLabel("Provider and model")).toHaveValue("gemini/gemini-2.5-flash-image");
  // A model chosen in this browser comes first on the next visit.
  await page.getByLabel("Provider and model").selectOption("openai/gpt-image-1");
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Provider and model")).toHaveValue("openai/gpt-image-1");
  await page.getByLabel("Provider and model").selectOption("gemini/gemini-2.5-flash-image");
  await moreOptions(page);
  await page.getByText("Compare with other models").click();
  await page.getByLabel("GPT Image 1", { exact: true }).check();
  await page.getByLabel("Portrait (offline)", { exact: true }).check();
  await expect(page.getByText("Compare with 2 other models")).toBeVisible();
  await page.getByLabel("Prompt", { exact: true }).fill("A lighthouse keeper at dusk");
  await page.getByRole("button", { name: "Generate", exact: true }).click();

  const board = page.getByRole("list", { name: "Compared models" });
  const results = board.getByTestId("compared");
  await expect(results).toHaveCount(3);
  await expect(results.filter({ hasText: /Took \d+ s/ })).toHaveCount(3, { timeout: 30_000 });
  // The fakes' usage priced by the shipped prices; the built-in one by end2end/prices.json.
  await expect(results.filter({ hasText: "Google Gemini · gemini-2.5-flash-image" })).toContainText("About $0.04");
  await expect(results.filter({ hasText: "OpenAI · gpt-image-1" })).toContainText("About $0.17");
  await expect(results.filter({ hasText: "Built-in (offline) · portrait-1" })).toContainText("About $0.01");
  for (let i = 0; i < 3; i++) {
    await expect.poll(() => results.nth(i).locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  }

  // Kept into a collection chosen beside the results.
  await page.getByLabel("Keep in").selectOption({ label: "Lighthouses" });
  await board.getByRole("button", { name: "Keep the one from OpenAI · gpt-image-1" }).click();
  await expect(page.getByText("Kept: in the collection Lighthouses.")).toBeVisible();
  const kept = await page.request.get(`/api/v1/images?collection_id=${collection.id}`);
  const items = (await kept.json()).items;
  expect(items).toHaveLength(1);
  expect(items[0].generation.cost.usd).toBeGreaterThan(0.1);
  await page.getByRole("button", { name: "Trash the others" }).click();
  await expect(page.getByText("2 moved to the trash.")).toBeVisible();
  await expect(results).toHaveCount(1);
  await expect(results).toContainText("OpenAI · gpt-image-1");
  expect(errors).toEqual([]);
});
