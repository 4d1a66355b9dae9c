// The `test` every suite uses: Playwright's, with a guard that fails a test when any page
// of its browser context reports a Content-Security-Policy violation (the server sends a
// strict policy with every page; a violation means something the app needs is blocked,
// or something was injected). Contexts a test opens itself are guarded with `guardCsp`.
import { test as base, expect, type BrowserContext } from "@playwright/test";

/// Collects the CSP violations of every page of `context`, now and later.
export async function guardCsp(context: BrowserContext): Promise<string[]> {
  const seen: string[] = [];
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "an inline resource"}`);
    });
  });
  context.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|CSP violation/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ context }, use) => {
      const seen = await guardCsp(context);
      await use(seen);
      expect(seen, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
