// Time to interactive, first visit, with Lighthouse's mobile throttling through the
// DevTools protocol (CPU 4× slower, 1.6 Mbps down, 750 kbps up, 150 ms round trip, cache
// disabled): from the start of the navigation to <html data-hydrated>, the moment the
// page answers a tap. `/` and `/login` signed out; `/studio` and `/gallery` signed in, the
// gallery holding 100 images (made here with the built-in generator).
//
//   node end2end/perf/tti.mjs BASE_URL EMAIL PASSWORD [RUNS]
//
// Prints one JSON object per route: { route, runs: [ms…], median }.
// Used by scripts/bench-tti.sh.
import { chromium } from "@playwright/test";
import { MOBILE, signIn, visit } from "./visit.mjs";

const [base, email, password, runsArg] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error("usage: tti.mjs BASE_URL EMAIL PASSWORD [RUNS]");
  process.exit(2);
}
const runs = Number(runsArg ?? 3);

const { api, state } = await signIn(base, email, password);
for (let i = 0; i < 25; i++) {
  const resp = await api.post("/api/v1/generations?wait=true", {
    data: { prompt: `a portrait for the gallery, number ${i}`, provider: "builtin", n: 4 },
    timeout: 120_000,
  });
  if (!resp.ok()) throw new Error(`cannot generate: ${resp.status()} ${await resp.text()}`);
}
const images = await (await api.get("/api/v1/images?limit=200")).json();
const done = images.items.filter((i) => i.status === "completed").length;
if (done < 100) throw new Error(`only ${done} images were made`);

const routes = [
  { route: "/", signedIn: false },
  { route: "/login", signedIn: false },
  { route: "/studio", signedIn: true },
  { route: "/gallery", signedIn: true },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
try {
  for (const r of routes) {
    const times = [];
    const protocols = new Set();
    for (let i = 0; i < runs; i++) {
      const { ms, requests } = await visit(browser, base, r.route, { storageState: r.signedIn ? state : undefined, throttle: MOBILE });
      times.push(Math.round(ms));
      for (const req of requests) protocols.add(req.protocol);
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(JSON.stringify({ route: r.route, runs: times, median: sorted[Math.floor(sorted.length / 2)], protocols: [...protocols] }));
  }
} finally {
  await browser.close();
  await api.dispose();
}
