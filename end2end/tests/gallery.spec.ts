// The gallery as a photo app: justified rows that keep each image's shape under a heading
// per day, ten thousand images scrolled with only those near the screen in the page (and
// the frames it drops measured and reported), selection by click, Shift-click and
// keyboard, and pages that follow each other without JavaScript.
import { type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { hydrated, showDetails, signUp, signedInWithoutJs } from "./helpers";
import { SHAPES, seedImages } from "./seed";

const grid = (page: Page) => page.getByRole("list", { name: "Images" });

/// Every tile in the page keeps its image's shape (seed n is SHAPES[n % 7]), read in one
/// go in the page (the grid may be drawn again between two reads from outside). A tile's
/// edges are placed on whole pixels, so its width may be a pixel off the exact shape
/// (3 % of the narrowest tiles, 32 px wide on a phone).
async function expectShapesKept(page: Page) {
  await expect
    .poll(() =>
      page.evaluate((shapes) => {
        const tiles = [...document.querySelectorAll(".photo-grid li.tile")];
        const wrong = tiles.flatMap((e) => {
          const r = e.getBoundingClientRect();
          const n = Number(/seed (\d+)$/.exec(e.querySelector(".tile__caption")?.textContent ?? "")?.[1]);
          const [w, h] = shapes[n % shapes.length];
          const off = Math.abs(r.width / r.height - w / h) / (w / h);
          const pixels = Math.abs(r.width - (r.height * w) / h);
          return off < 0.03 || pixels <= 1.5 ? [] : [`seed ${n}: ${r.width}×${r.height} for ${w}×${h}`];
        });
        return tiles.length > 3 ? wrong : ["fewer than four tiles"];
      }, SHAPES),
    )
    .toEqual([]);
}

test("ten thousand images scroll with only those near the screen in the page, never a blank screen", async ({
  page,
}, testInfo) => {
  test.setTimeout(420_000);
  await signUp(page, "ten-thousand");
  const seconds = await seedImages(page, 10_000);
  console.log(`seed ${testInfo.project.name}: 10000 images through POST /api/v1/uploads in ${seconds.toFixed(1)} s`);

  await page.goto("/gallery");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Today", level: 2 })).toBeVisible();
  await expect(grid(page).locator("li.tile[data-index='0']")).toBeVisible();
  await expectShapesKept(page);

  // Down to the end: pages are read as the end comes near, until the oldest is there.
  let most = 0;
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    const state = await page.evaluate(() => {
      window.scrollTo(0, document.documentElement.scrollHeight);
      return {
        images: document.querySelectorAll("img").length,
        more: !!document.querySelector(".more-pages a"),
        last: !!document.querySelector("li.tile[data-index='9999']"),
      };
    });
    most = Math.max(most, state.images);
    if (!state.more && state.last) break;
    await page.waitForTimeout(50);
  }
  // The ten thousandth is there, and nothing after it.
  await expect(grid(page).locator("li.tile[data-index='9999']")).toBeVisible();
  await expect(grid(page).locator("li.tile[data-index='10000']")).toHaveCount(0);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(height).toBeGreaterThan(50_000);

  // Scrolled through the middle, fast, one step a frame: the frames, what is in the page,
  // and whether any frame showed no tile where the grid is.
  const run = await page.evaluate(async () => {
    const step = 40; // px a frame: 2400 px a second at 60 frames a second
    const frames = 360;
    const long: number[] = [];
    let observer: PerformanceObserver | undefined;
    if (PerformanceObserver.supportedEntryTypes.includes("long-animation-frame")) {
      observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => long.push(e.duration)));
      observer.observe({ type: "long-animation-frame" });
    }
    // How much of the screen tiles cover (they never overlap): a blank screen is one that
    // is less than half covered (in the middle of the list full rows cover nearly all of
    // it, less the gaps between tiles).
    const covered = () => {
      const [w, h] = [window.innerWidth, window.innerHeight];
      let area = 0;
      for (const e of document.querySelectorAll("li.tile")) {
        const r = e.getBoundingClientRect();
        area += Math.max(0, Math.min(r.right, w) - Math.max(r.left, 0)) * Math.max(0, Math.min(r.bottom, h) - Math.max(r.top, 0));
      }
      return area / (w * h);
    };
    let least = 1;
    const blankAt = () => {
      const c = covered();
      least = Math.min(least, c);
      return c < 0.5;
    };
    window.scrollTo(0, document.documentElement.scrollHeight / 3);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    // How many tiles were made while scrolling (a row's worth each time a row comes in).
    let made = 0;
    const mutations = new MutationObserver((records) =>
      records.forEach((r) => r.addedNodes.forEach((n) => (made += n instanceof HTMLLIElement ? 1 : 0))),
    );
    mutations.observe(document.querySelector(".photo-grid")!, { childList: true, subtree: true });
    const times: number[] = [];
    let blank = 0;
    let most = 0;
    await new Promise<void>((done) => {
      const frame = (t: number) => {
        times.push(t);
        most = Math.max(most, document.querySelectorAll("img").length);
        if (blankAt()) blank++;
        if (times.length > frames) return done();
        window.scrollBy(0, times.length > frames / 2 ? -step : step);
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    // Jumps: anywhere in the list, the next frame shows tiles.
    let blankJumps = 0;
    for (const f of [0.9, 0.1, 0.6, 0.35, 0.8]) {
      window.scrollTo(0, document.documentElement.scrollHeight * f);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      if (blankAt()) blankJumps++;
      most = Math.max(most, document.querySelectorAll("img").length);
    }
    observer?.disconnect();
    mutations.disconnect();
    const deltas = times.slice(1).map((t, i) => t - times[i]);
    const interval = [...deltas].sort((a, b) => a - b)[Math.floor(deltas.length / 2)];
    const drops = (ds: number[]) => ds.reduce((n, d) => n + Math.max(0, Math.round(d / interval) - 1), 0);
    const dropped = drops(deltas);
    const down = drops(deltas.slice(0, frames / 2));
    return {
      frames: deltas.length,
      interval,
      dropped,
      down,
      longest: Math.max(...deltas),
      long: long.length,
      blank,
      blankJumps,
      least,
      most,
      tiles: document.querySelectorAll("li.tile").length,
      made,
      scrolled: step * frames,
    };
  });
  const report =
    `gallery scroll ${testInfo.project.name}: 10000 images, page ${height} px high; ` +
    `${run.frames} frames at ${step(run.interval)} ms, ${run.dropped} dropped (${run.down} going down, ${run.dropped - run.down} going up) ` +
    `(${((100 * run.dropped) / (run.frames + run.dropped)).toFixed(1)} %), longest ${run.longest.toFixed(1)} ms, ` +
    `${run.long} long animation frames; ${run.made} tiles made over ${run.scrolled} px scrolled; at most ${Math.max(most, run.most)} images in the page ` +
    `(${run.tiles} tiles now); least covered ${(100 * run.least).toFixed(0)} % of the screen, blank frames ${run.blank}, blank jumps ${run.blankJumps}`;
  console.log(report);
  testInfo.annotations.push({ type: "measurement", description: report });
  expect(Math.max(most, run.most)).toBeLessThanOrEqual(300);
  expect(run.blank).toBe(0);
  expect(run.blankJumps).toBe(0);
});

function step(ms: number) {
  return ms.toFixed(1);
}

test("images are picked by click, Shift-click and the keyboard", async ({ page }) => {
  await signUp(page, "pick");
  await seedImages(page, 8);
  await page.goto("/gallery");
  await hydrated(page);
  const list = grid(page);
  const bar = page.getByRole("toolbar", { name: "Selected images" });
  const select = (n: number) => list.getByRole("checkbox", { name: `Select seed ${n}`, exact: true });

  await select(6).click();
  await expect(bar.getByText("1 selected")).toBeVisible();
  // Shift: everything from the one picked before (newest first: 6, 5, 4, 3).
  await select(3).click({ modifiers: ["Shift"] });
  await expect(bar.getByText("4 selected")).toBeVisible();
  await expect(select(5)).toBeChecked();
  // Shift on a picture picks too (on to 1), instead of opening it; Ctrl adds one.
  await list.getByRole("button", { name: "Open seed 1", exact: true }).click({ modifiers: ["Shift"] });
  await expect(bar.getByText("6 selected")).toBeVisible();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await list.getByRole("button", { name: "Open seed 7", exact: true }).click({ modifiers: ["ControlOrMeta"] });
  await expect(bar.getByText("7 selected")).toBeVisible();
  // Escape lets the selection go; Ctrl+A takes every image.
  await select(7).focus();
  await page.keyboard.press("Escape");
  await expect(bar).toBeHidden();
  await page.keyboard.press("ControlOrMeta+a");
  await expect(bar.getByText("8 selected")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(bar).toBeHidden();
  // The keyboard alone: Space picks, Shift+Space picks the range.
  await select(0).focus();
  await page.keyboard.press("Space");
  await expect(bar.getByText("1 selected")).toBeVisible();
  await select(2).focus();
  await page.keyboard.press("Shift+Space");
  await expect(bar.getByText("3 selected")).toBeVisible();
  await expect(select(1)).toBeChecked();
  // A plain click on a picture still opens it.
  await list.getByRole("button", { name: "Open seed 4", exact: true }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
});

/// The captions of the grid's tiles, in order.
async function captions(page: Page) {
  return grid(page).locator(".tile__caption").allTextContents();
}

test("without JavaScript the gallery pages with links", async ({ browser, baseURL }) => {
  const page = await signedInWithoutJs(browser, baseURL!, "nojs-pages");
  await seedImages(page, 60);
  await page.goto("/gallery");
  // (Images uploaded in one request can share a moment, so which page holds which is the
  // server's order; what must hold is that the two pages are all sixty, once each.)
  await expect(grid(page).getByRole("listitem")).toHaveCount(48);
  const first = await captions(page);
  await page.getByRole("link", { name: "Show more" }).click();
  await expect(page).toHaveURL(/[?&]cursor=/);
  await expect(grid(page).getByRole("listitem")).toHaveCount(12);
  const second = await captions(page);
  expect(new Set([...first, ...second]).size).toBe(60);
  await expect(page.getByRole("link", { name: "Show more" })).toHaveCount(0);
  await page.getByRole("link", { name: "Newest first" }).click();
  await expect(grid(page).getByRole("listitem")).toHaveCount(48);
  expect(await captions(page)).toEqual(first);
  await page.context().close();
});

test("titles with quotes, apostrophes and markup come through the page's hydration as written", async ({
  page,
}) => {
  // The gallery's first page reaches the browser inside the page with its quotes swapped
  // (app::hydration_codec); what people wrote must read back exactly, and hydrate cleanly.
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await signUp(page, "quotes");
  await seedImages(page, 2);
  const origin = new URL(page.url()).origin;
  const { items } = await (await page.request.get("/api/v1/images")).json();
  const titles = [`Ada's "copper" helmet \\ </script><b>`, `l'été au 東京 🦊 "x" 'y'`];
  for (const [i, title] of titles.entries()) {
    const res = await page.request.patch(`/api/v1/images/${items[i].id}`, { headers: { origin }, data: { title } });
    expect(res.status()).toBe(200);
  }
  await page.goto("/gallery");
  await hydrated(page);
  for (const title of titles) {
    // Drawn by the browser from the hydrated data: the tile, then its lightbox.
    await expect(grid(page).getByText(title, { exact: true })).toBeVisible();
    await page.getByRole("button", { name: `Open ${title}` }).click();
    await showDetails(page);
    await expect(page.getByRole("dialog").getByRole("heading", { name: title })).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(page.getByRole("dialog")).toHaveCount(0);
  }
  expect(errors).toEqual([]);
});
