// What the main pages look like, on a desktop and a 360 px phone (the two projects), in
// the light and the dark theme: compared with the committed reference images
// (visual.spec.ts-snapshots/), so a layout that breaks fails the suite. What changes from
// run to run (the account's name, the live connection's state) is masked.
//
// After an intended change of the look: `npx playwright test visual --update-snapshots`,
// then look at the new images before committing them.
import { type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { hydrated, signUp } from "./helpers";

const SHOT = { maxDiffPixelRatio: 0.01, animations: "disabled" as const, caret: "hide" as const };

async function shoot(page: Page, name: string) {
  await hydrated(page);
  // Pictures and fonts in, nothing still settling.
  await page.waitForLoadState("networkidle");
  await expect(page).toHaveScreenshot(`${name}.png`, {
    ...SHOT,
    mask: [page.locator(".site-menu__who, .site-menu__initial, .live-status")],
  });
}

for (const scheme of ["light", "dark"] as const) {
  test(`${scheme}: the main pages look as they did`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    await page.goto("/");
    await shoot(page, `home-${scheme}`);
    await page.goto("/login");
    await shoot(page, `sign-in-${scheme}`);
    await signUp(page, `visual-${scheme}`);
    await page.goto("/studio");
    await expect(page.getByText("Nothing made yet.")).toBeVisible();
    await shoot(page, `studio-${scheme}`);
    await page.goto("/gallery");
    await expect(page.getByText("No images yet.")).toBeVisible();
    await shoot(page, `gallery-${scheme}`);
  });
}
