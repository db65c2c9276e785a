import type { INestApplication } from '@nestjs/common';
import { Device } from 'nestjs-device-tracker';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerNextDialog,
  browserAvailable,
  holdNextAnswer,
  HOSTILE_USER_AGENT,
  launchChromium,
  newDevice,
  pwned,
  SCREENSHOTS,
  ScriptErrors,
  settle,
  USER_AGENTS,
} from '../support/browser.js';
import { PLATFORM } from '../support/platform.js';
import { serveSampleApp, signInToSample } from '../support/sample-app.js';

const ALICE = { username: 'alice', password: 'alice-password' };
const BOB = { username: 'bob', password: 'bob-password' };
/** How often the page reloads its list (RELOAD_EVERY_MS in devices.js). */
const RELOAD_EVERY_MS = 15_000;

describe.runIf(browserAvailable())(`"Your devices" page in Chromium (${PLATFORM})`, () => {
  let app: INestApplication;
  let base: string;
  let browser: Browser;
  let mac: BrowserContext;
  let iphone: BrowserContext;
  let macPage: Page;
  let iphonePage: Page;
  const scriptErrors = new ScriptErrors();

  beforeAll(async () => {
    ({ app, base } = await serveSampleApp());
    browser = await launchChromium();
    mac = await newDevice(browser, USER_AGENTS.mac);
    iphone = await newDevice(browser, USER_AGENTS.iphone);
    macPage = await open(mac);
    iphonePage = await open(iphone);
  });

  afterEach(() => scriptErrors.check());

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A page of the app in `context`, its script errors watched. */
  async function open(context: BrowserContext): Promise<Page> {
    const page = scriptErrors.watch(await context.newPage());
    await page.goto(`${base}/`);
    return page;
  }

  /** The device rows of alice, straight from the database. */
  async function aliceDevices(): Promise<Device[]> {
    return app
      .get(DataSource)
      .getRepository(Device)
      .find({ where: { userId: '1' }, order: { createdAt: 'ASC' } });
  }

  it('refuses a wrong password with the reason, and shows the form again', async () => {
    await signIn(macPage, { username: 'alice', password: 'not-her-password' });
    await expect.poll(() => alert(macPage).textContent()).toBe('Wrong username or password');
    expect(await alert(macPage).getAttribute('role')).toBe('alert');
    expect(await macPage.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await aliceDevices()).toEqual([]);
  });

  it('shows each signed-in browser as a card, the current one marked', async () => {
    await signIn(macPage);
    await cards(macPage).first().waitFor();
    await signIn(iphonePage);
    await expect.poll(() => cards(iphonePage).count()).toBe(2);

    const here = card(iphonePage, 'Safari 17 on iOS');
    expect(await here.locator('.badge.current').isVisible()).toBe(true);
    expect(await field(here, 'Browser').textContent()).toBe('Safari');
    expect(await field(here, 'System').textContent()).toBe('iOS');
    expect(await here.locator('.device-icon').getAttribute('data-type')).toBe('mobile');

    const other = card(iphonePage, 'Chrome 130 on macOS');
    expect(await other.locator('.badge.current').isVisible()).toBe(false);
    expect(await other.locator('.device-icon').getAttribute('data-type')).toBe('desktop');
    expect(await field(other, 'IP address').textContent()).toBe('127.0.0.1');
    expect(await field(other, 'Last active').textContent()).toBe('just now');
    const [macDevice] = await aliceDevices();
    expect(await field(other, 'First seen').locator('time').getAttribute('datetime')).toBe(
      macDevice!.createdAt.toISOString(),
    );
    expect(await iphonePage.locator('#who').textContent()).toBe('Signed in on Safari 17 on iOS');
    if (SCREENSHOTS) await iphonePage.screenshot({ path: new URL('devices-page.png', SCREENSHOTS).pathname });
  });

  it('logs the other browser out from this one, and the other one loses access at once', async () => {
    const macTokens = await tokensOf(macPage);
    await card(iphonePage, 'Chrome 130 on macOS').getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => alert(iphonePage).textContent()).toBe('Chrome 130 on macOS was logged out.');
    const loggedOut = card(iphonePage, 'Chrome 130 on macOS');
    await expect.poll(() => activeBadgeOf(loggedOut)).toBe('logged out');
    expect(await loggedOut.getByRole('button').isVisible()).toBe(false);

    // Its access token has not expired, yet the API refuses it, and so does the refresh endpoint.
    const me = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${macTokens!.access_token}` } });
    expect(me.status).toBe(401);
    await macPage.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => alert(macPage).textContent()).toBe('This device has been logged out; sign in again');
    expect(await macPage.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await cards(macPage).count()).toBe(0);
    expect(await tokensOf(macPage)).toBeNull();
    expect((await aliceDevices()).map((device) => device.isActive)).toEqual([false, true]);
    if (SCREENSHOTS) await macPage.screenshot({ path: new URL('devices-page-logged-out.png', SCREENSHOTS).pathname });
  });

  it('signs the same browser in again as the same device, then logs out all the others', async () => {
    await signIn(macPage);
    await cards(macPage).first().waitFor();
    expect((await aliceDevices()).map((device) => device.isActive)).toEqual([true, true]);

    await iphonePage.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => activeBadgeOf(card(iphonePage, 'Chrome 130 on macOS'))).toBe('active');
    const asked = answerNextDialog(iphonePage, 'accept');
    await iphonePage.getByRole('button', { name: 'Log out all other devices' }).click();
    expect(await asked).toBe('Log out all your other devices? Each of them will have to sign in again.');
    await expect.poll(() => alert(iphonePage).textContent()).toBe('Logged out 1 other device.');
    expect(await iphonePage.getByRole('button', { name: 'Log out all other devices' }).isDisabled()).toBe(true);
    await macPage.reload();
    await expect.poll(() => alert(macPage).textContent()).toBe('This device has been logged out; sign in again');
    expect(await macPage.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
  });

  it('signs out of this device', async () => {
    await iphonePage.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => alert(iphonePage).textContent()).toBe('You signed out of this device.');
    expect((await aliceDevices()).map((device) => device.isActive)).toEqual([false, false]);
  });

  it('shows a hostile user agent as text, never as markup', async () => {
    await signInToSample(app, 'bob', { 'user-agent': HOSTILE_USER_AGENT });
    await signIn(macPage, BOB);
    await expect.poll(() => cards(macPage).count()).toBe(2);
    // The card that is not this browser's, found whatever its name turned into.
    const hostile = cards(macPage).filter({ hasNot: macPage.locator('.badge.current:visible') });
    expect(await hostile.locator('.device-name').textContent()).toBe('<img src=x onerror="window.pwned=1"> 1');
    expect(await field(hostile, 'Browser').textContent()).toBe('<img src=x onerror="window.pwned=1">');
    expect(await hostile.locator('img, script').count()).toBe(0);
    expect(await pwned(macPage)).toBeUndefined();
  });

  it('drops a timed reload answered after signing out', async () => {
    const tablet = await newDevice(browser, USER_AGENTS.iphone);
    await tablet.clock.install();
    const page = await open(tablet);
    await signIn(page, BOB);
    await expect.poll(() => cards(page).count()).toBe(3);
    const reload = await holdNextAnswer(page, '/api/devices');
    await page.clock.runFor(RELOAD_EVERY_MS);
    await reload.answered;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => alert(page).textContent()).toBe('You signed out of this device.');
    await reload.release();
    await settle(page);
    expect(await page.locator('#devices').isVisible()).toBe(false);
    expect(await cards(page).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await alert(page).textContent()).toBe('You signed out of this device.');
    await tablet.close();
  });
});

/** Whether the card shows its device active or logged out, or that there is no such card (yet). */
async function activeBadgeOf(item: Locator): Promise<'active' | 'logged out' | 'no card'> {
  if ((await item.count()) !== 1) return 'no card';
  return (await item.locator('.badge.inactive').isVisible()) ? 'logged out' : 'active';
}

async function signIn(page: Page, { username, password } = ALICE): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const cards = (page: Page) => page.locator('.device');
const card = (page: Page, name: string) => cards(page).filter({ hasText: name });
const field = (item: Locator, label: string) => item.locator(`dt:text-is("${label}") + dd`);
const alert = (page: Page) => page.locator('#message');

/** The tokens the page keeps for its tab, or null once it dropped them. */
async function tokensOf(page: Page): Promise<{ access_token: string } | null> {
  const stored = await page.evaluate(() =>
    (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem(
      'device-tracker-sample',
    ),
  );
  return stored === null ? null : JSON.parse(stored);
}
