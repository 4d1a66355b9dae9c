// What a first visit to each page downloads before the page is interactive, measured in
// Chromium through the DevTools protocol: every response under /pkg/ (wasm, JS, CSS) whose
// request was sent before <html data-hydrated> appeared, counted as transferred on the
// wire (encoded: brotli when the server has it). Each route is visited in a new browser
// context with the cache disabled, signed out for the public pages and signed in (as the
// instance's administrator) for the others.
//
//   node end2end/perf/first-load.mjs BASE_URL EMAIL PASSWORD
//
// Prints one JSON object per route: { route, bytes, files, encodings, ms }.
// Used by scripts/bundle-size.sh, which checks the budgets.
import { chromium } from "@playwright/test";
import { signIn, visit } from "./visit.mjs";

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error("usage: first-load.mjs BASE_URL EMAIL PASSWORD");
  process.exit(2);
}

// Something to show on the signed-in pages: a character of the administrator's own.
const { api, state } = await signIn(base, email, password);
const character = await api.post("/api/v1/characters", { data: { name: "Ada", description: "The first-load character" } });
if (!character.ok()) throw new Error(`cannot make a character: ${character.status()}`);
const characterId = (await character.json()).id;

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
    const { ms, requests } = await visit(browser, base, r.path ?? r.route, { storageState: r.signedIn ? state : undefined });
    const pkg = requests.filter((req) => new URL(req.url).pathname.startsWith("/pkg/"));
    const bytes = pkg.reduce((sum, req) => sum + req.bytes, 0);
    const encodings = [...new Set(pkg.map((req) => req.encoding))];
    // The same address answers brotli or plain bytes by Accept-Encoding: a shared cache
    // must be told, or it hands brotli to a client that cannot read it.
    const unvaried = pkg.filter((req) => !req.vary.includes("accept-encoding"));
    if (unvaried.length) throw new Error(`${r.route}: no "Vary: accept-encoding" on ${unvaried[0].url} (and ${unvaried.length - 1} more)`);
    console.log(JSON.stringify({ route: r.route, bytes, files: pkg.length, encodings, ms: Math.round(ms) }));
  }
} finally {
  await browser.close();
  await api.dispose();
}
