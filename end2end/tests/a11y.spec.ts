// Accessibility, checked by axe-core (@axe-core/playwright) on every page of the app,
// signed out and signed in, in the light and the dark theme, on a desktop and a phone
// (the two projects), with the menu and the lightbox open: no critical, serious or
// moderate violation of WCAG 2.1 A/AA or axe's best practices. Each test attaches the
// full report and prints a line per page, so the suite's output says what was checked.
import AxeBuilder from "@axe-core/playwright";
import { type Page, type TestInfo } from "@playwright/test";
import { expect, test } from "./fixtures";
import { RED, hydrated, openMenu, signInAsAdmin, signUp } from "./helpers";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const FAILING = new Set(["critical", "serious", "moderate"]);

/// Runs axe on the page as it is; records the report; fails (softly: every page is
/// checked) on any violation at or above "moderate".
async function audit(page: Page, what: string, testInfo: TestInfo) {
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const failing = results.violations.filter((v) => FAILING.has(v.impact ?? ""));
  const minor = results.violations.length - failing.length;
  const label = `${testInfo.project.name} ${what}`;
  console.log(
    `axe ${label}: ${results.passes.length} rules pass, ${failing.length} failing, ${minor} minor`,
  );
  await testInfo.attach(`axe ${what}`, { body: JSON.stringify(results.violations, null, 2), contentType: "application/json" });
  const described = failing.map(
    (v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")}`,
  );
  expect.soft(described, `axe violations on ${label}`).toEqual([]);
}

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} theme`, () => {
    test.beforeEach(async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    });

    test("signed out: home, sign-in, sign-up, password reset, not found", async ({ page }, testInfo) => {
      for (const path of ["/", "/login", "/signup", "/forgot-password", "/reset-password", "/verify-email", "/no-such-page"]) {
        await page.goto(path);
        await audit(page, `${scheme} ${path}`, testInfo);
      }
      // A visitor's menu is a phone's (wider screens show the sections and buttons).
      if (await page.locator("details.site-menu > summary").isVisible()) {
        await openMenu(page);
        await audit(page, `${scheme} menu open (signed out)`, testInfo);
      }
    });

    test("signed in: every section, a character, the lightbox and the menu", async ({ page }, testInfo) => {
      test.slow();
      await signUp(page, `axe-${scheme}`);
      const headers = { origin: new URL(page.url()).origin };
      const upload = await page.request.post("/api/v1/uploads", {
        headers,
        multipart: { file: { name: "red sunset.png", mimeType: "image/png", buffer: Buffer.from(RED, "base64") } },
      });
      expect(upload.status()).toBe(201);
      const character = await page.request.post("/api/v1/characters", { headers, data: { name: "Ada" } });
      expect(character.status()).toBe(201);
      const { id } = await character.json();
      for (const path of ["/", "/studio", "/characters", `/characters/${id}`, "/gallery", "/gallery?view=trash", "/collections", "/settings"]) {
        await page.goto(path);
        await audit(page, `${scheme} ${path.replace(id, "{id}")}`, testInfo);
      }
      await page.goto("/gallery");
      await hydrated(page);
      await page.getByRole("button", { name: "Open red sunset" }).click();
      await expect(page.getByRole("dialog")).toBeVisible();
      await audit(page, `${scheme} lightbox`, testInfo);
      const handle = page.getByRole("dialog").getByRole("button", { name: "Details" });
      if (await handle.isVisible()) {
        await handle.click();
        await audit(page, `${scheme} lightbox details`, testInfo);
      }
      await page.keyboard.press("Escape");
      await openMenu(page);
      await audit(page, `${scheme} menu open`, testInfo);
    });

    test("the operations pages", async ({ page }, testInfo) => {
      await signInAsAdmin(page);
      for (const path of ["/admin"]) {
        await page.goto(path);
        await audit(page, `${scheme} ${path}`, testInfo);
      }
    });
  });
}
