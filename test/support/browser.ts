import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (package `chromium`): the tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser suites can run. Without Chromium they are skipped with a notice, so `npm test` passes on a
 * machine without it; CI sets `REQUIRE_BROWSER=1` (and installs Chromium), where a missing browser fails instead.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM}`);
  console.warn(`Browser suites skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return false;
}

/** Headless Chromium as root on a machine with no outside network: no sandbox, no background connections. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Two user agents, so two browser contexts show up as two recognisable devices. */
export const USER_AGENTS = {
  mac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
} as const;

/** A fresh browser profile (its own cookies and storage): one device. */
export function newDevice(browser: Browser, userAgent: string, width = 960): Promise<BrowserContext> {
  return browser.newContext({ userAgent, viewport: { width, height: 720 }, locale: 'en-US' });
}

/** Where `npm run screenshots` writes the README's pictures; the tests take none otherwise. */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? new URL('../../docs/', import.meta.url) : undefined;

/** Uncaught script errors of the pages watched; `check()` (after each test) fails the test that caused any. */
export class ScriptErrors {
  private readonly errors: string[] = [];

  watch(page: Page): Page {
    page.on('pageerror', (error) => this.errors.push(error.message));
    return page;
  }

  check(): void {
    const errors = this.errors.splice(0);
    if (errors.length > 0) throw new Error(`The page's script failed: ${errors.join('; ')}`);
  }
}
