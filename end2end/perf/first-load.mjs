// What a first visit to each page downloads before the page is interactive, measured in
// Chromium through the DevTools protocol: every response under /pkg/ (wasm, JS, CSS) whose
// request was sent before <html data-hydrated> appeared, counted as transferred on the
// wire (encoded: brotli when the server has it). Each route is visited in a new browser
// context with the cache disabled, signed out for the public pages and signed in (as the
// instance's administrator) for the others.
//
//   node end2end/perf/first-load.mjs BASE_URL EMAIL PASSWORD [--json]
//
// Prints one JSON object per route: { route, bytes, files, encodings, ms }.
// Used by scripts/bundle-size.sh, which checks the budgets.
import { chromium, request } from "@playwright/test";

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error("usage: first-load.mjs BASE_URL EMAIL PASSWORD");
  process.exit(2);
}

// Something to show on the signed-in pages: a character of the administrator's own.
const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base } });
const signIn = await api.post("/api/v1/auth/login", { data: { email, password } });
if (!signIn.ok()) throw new Error(`cannot sign in: ${signIn.status()} ${await signIn.text()}`);
const character = await api.post("/api/v1/characters", { data: { name: "Ada", description: "The first-load character" } });
if (!character.ok()) throw new Error(`cannot make a character: ${character.status()}`);
const characterId = (await character.json()).id;
const signedIn = await api.storageState();

const routes = [
  { route: "/", signedIn: false },
  { route: "/login", signedIn: false },
  { route: "/studio", signedIn: true },
  { route: "/gallery", signedIn: true },
  { route: "/characters/{id}", path: `/characters/${characterId}`, signedIn: true },
  { route: "/settings", signedIn: true },
  { route: "/admin", signedIn: true },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
try {
  for (const r of routes) {
    const context = await browser.newContext(r.signedIn ? { storageState: signedIn } : {});
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    const requests = new Map();
    cdp.on("Network.requestWillBeSent", (e) => {
      requests.set(e.requestId, { url: e.request.url, sentAt: e.wallTime * 1000 });
    });
    cdp.on("Network.responseReceived", (e) => {
      const req = requests.get(e.requestId);
      if (req) req.encoding = e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "identity";
    });
    cdp.on("Network.loadingFinished", (e) => {
      const req = requests.get(e.requestId);
      if (req) req.bytes = e.encodedDataLength;
    });
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.documentElement.hasAttribute("data-hydrated")) {
          window.__hydratedAt = performance.timeOrigin + performance.now();
          observer.disconnect();
        }
        // The document itself: <html> does not exist yet when this runs.
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
    });
    const started = Date.now();
    const response = await page.goto(base + (r.path ?? r.route));
    if (!response || response.status() !== 200) throw new Error(`${r.route}: status ${response?.status()}`);
    await page.waitForSelector("html[data-hydrated]", { timeout: 60_000 });
    const hydratedAt = await page.evaluate(() => window.__hydratedAt);
    if (typeof hydratedAt !== "number") throw new Error(`${r.route}: the moment of hydration was not seen`);
    // Let the responses of the requests made before that moment finish being counted.
    await page.waitForLoadState("networkidle");
    let bytes = 0;
    let files = 0;
    const encodings = new Set();
    for (const req of requests.values()) {
      if (!new URL(req.url).pathname.startsWith("/pkg/") || req.sentAt > hydratedAt) continue;
      if (req.bytes === undefined) throw new Error(`${r.route}: ${req.url} did not finish`);
      bytes += req.bytes;
      files += 1;
      encodings.add(req.encoding);
    }
    console.log(JSON.stringify({ route: r.route, bytes, files, encodings: [...encodings], ms: Math.round(hydratedAt - started) }));
    await context.close();
  }
} finally {
  await browser.close();
  await api.dispose();
}
