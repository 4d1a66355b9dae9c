// One first visit to a page, as end2end/perf/first-load.mjs and tti.mjs measure it: a new
// browser context with the cache disabled (signed in when given a storage state), the
// page loaded, and the moment <html data-hydrated> appears (the page is interactive)
// taken from the page's own clock. Optionally with Lighthouse's mobile throttling,
// through the DevTools protocol.
import { request } from "@playwright/test";

// Lighthouse's mobile profile: CPU 4× slower, 1.6 Mbps down, 750 kbps up, 150 ms RTT.
export const MOBILE = { cpu: 4, latencyMs: 150, downKbps: 1.6 * 1024, upKbps: 750 };

// Signs in through the API; answers the request context (for making data) and its
// storage state (for signed-in visits).
export async function signIn(base, email, password) {
  const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base }, ignoreHTTPSErrors: true });
  const resp = await api.post("/api/v1/auth/login", { data: { email, password } });
  if (!resp.ok()) throw new Error(`cannot sign in: ${resp.status()} ${await resp.text()}`);
  return { api, state: await api.storageState() };
}

// Visits base + path; answers { ms, requests } where ms is the time from the start of the
// navigation to hydration and requests every request made before that moment, each
// { url, bytes (as transferred), encoding, vary (the Vary header, lower case, "" when
// absent), protocol ("http/1.1", "h2") }.
export async function visit(browser, base, path, { storageState, throttle } = {}) {
  // Behind the proxy of scripts/bench-tti.sh --behind-nginx: a self-signed certificate.
  const context = await browser.newContext({ storageState, ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (throttle) {
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle.cpu });
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: throttle.latencyMs,
        downloadThroughput: (throttle.downKbps * 1000) / 8,
        uploadThroughput: (throttle.upKbps * 1000) / 8,
      });
    }
    const requests = new Map();
    cdp.on("Network.requestWillBeSent", (e) => {
      requests.set(e.requestId, { url: e.request.url, sentAt: e.wallTime * 1000 });
    });
    cdp.on("Network.responseReceived", (e) => {
      const req = requests.get(e.requestId);
      const h = e.response.headers;
      if (req) {
        req.encoding = h["content-encoding"] ?? h["Content-Encoding"] ?? "identity";
        req.vary = (h["vary"] ?? h["Vary"] ?? "").toLowerCase();
        req.protocol = e.response.protocol;
      }
    });
    cdp.on("Network.loadingFinished", (e) => {
      const req = requests.get(e.requestId);
      if (req) req.bytes = e.encodedDataLength;
    });
    cdp.on("Network.loadingFailed", (e) => {
      const req = requests.get(e.requestId);
      if (req) req.failed = e.errorText;
    });
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.documentElement.hasAttribute("data-hydrated")) {
          window.__hydrated = { at: performance.timeOrigin + performance.now(), ms: performance.now() };
          observer.disconnect();
        }
        // The document itself: <html> does not exist yet when this runs.
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
    });
    const response = await page.goto(base + path);
    if (!response || response.status() !== 200) throw new Error(`${path}: status ${response?.status()}`);
    await page.waitForSelector("html[data-hydrated]", { timeout: 120_000 });
    const hydrated = await page.evaluate(() => window.__hydrated);
    if (!hydrated) throw new Error(`${path}: the moment of hydration was not seen`);
    // Let the responses of the requests made before that moment finish being counted.
    // Waiting for the network to be idle is not always enough: a request made as the page
    // became interactive (the live connection's chunk) can still be on its way then, on a
    // throttled HTTP/2 connection behind nginx; so each is awaited, for up to a minute.
    await page.waitForLoadState("networkidle");
    const before = [...requests.values()].filter((r) => r.sentAt <= hydrated.at);
    const deadline = Date.now() + 60_000;
    while (before.some((r) => r.bytes === undefined && r.failed === undefined) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const r of before) {
      if (r.failed !== undefined) throw new Error(`${path}: ${r.url} failed: ${r.failed}`);
      if (r.bytes === undefined) throw new Error(`${path}: ${r.url} did not finish`);
    }
    return { ms: hydrated.ms, requests: before };
  } finally {
    await context.close();
  }
}
