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

/**
 * A user agent made of markup, as anyone may send: the pages must show it as text. Bowser reads the tag before `/1.0`
 * as the browser's name, so the device's name and browser carry the markup too. Run, it would set `window.pwned`.
 */
export const HOSTILE_USER_AGENT = '<img src=x onerror="window.pwned=1">/1.0 "><script>window.pwned=1</script>';

/** What the hostile agent's markup would have set, had it run in `page`: undefined while it never did. */
export const pwned = (page: Page): Promise<unknown> => page.evaluate(() => (globalThis as { pwned?: unknown }).pwned);

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

/** Answers the next dialog `page` opens (a `confirm()`) and resolves to its message. */
export function answerNextDialog(page: Page, answer: 'accept' | 'dismiss'): Promise<string> {
  return new Promise((resolve, reject) =>
    page.once('dialog', (dialog) => dialog[answer]().then(() => resolve(dialog.message()), reject)),
  );
}

/** The answer to a request held back from the page: the server gave it, the page has not seen it yet. */
export interface HeldAnswer {
  /** Resolves once the server has answered. */
  answered: Promise<void>;
  /** Hands the answer to the page; resolves once the page has received all of it. */
  release(): Promise<void>;
}

/**
 * Holds back the answer to the next request of `page` to `path` (any query), for an answer that must arrive late:
 * after whatever the test does meanwhile. Later requests pass.
 */
export async function holdNextAnswer(page: Page, path: string): Promise<HeldAnswer> {
  const answered = deferred();
  const released = deferred();
  const delivered = deferred();
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      try {
        const response = await route.fetch();
        answered.resolve();
        await released.promise;
        const finished = page.waitForEvent('requestfinished', (request) => request === route.request());
        await route.fulfill({ response });
        await finished;
        delivered.resolve();
      } catch (error) {
        answered.reject(error);
        delivered.reject(error);
      }
    },
    { times: 1 },
  );
  return {
    answered: answered.promise,
    release: () => {
      released.resolve();
      return delivered.promise;
    },
  };
}

/**
 * Lets `page` handle what it has just received (an answer the test released) before the test looks: for a check that
 * nothing changed, where no change can be waited for.
 */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: unknown): void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((done, fail) => ((resolve = done), (reject = fail)));
  return { promise, resolve, reject };
}
