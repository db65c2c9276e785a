import type { INestApplication } from '@nestjs/common';
import { Device } from 'nestjs-device-tracker';
import type { Browser, Page } from 'playwright-core';
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
import { type SampleLogin, serveSampleApp, signInToSample } from '../support/sample-app.js';

describe.runIf(browserAvailable())(`Admin panel in Chromium (${PLATFORM})`, () => {
  let app: INestApplication;
  let base: string;
  let browser: Browser;
  let page: Page;
  const scriptErrors = new ScriptErrors();
  const tokens: Record<string, SampleLogin> = {};

  beforeAll(async () => {
    ({ app, base } = await serveSampleApp());
    // Devices signed in outside the panel: alice on two browsers, bob on one.
    tokens.aliceMac = await login('alice', USER_AGENTS.mac);
    tokens.aliceIphone = await login('alice', USER_AGENTS.iphone);
    tokens.bob = await login('bob', USER_AGENTS.mac);
    browser = await launchChromium();
    page = scriptErrors.watch(await (await newDevice(browser, USER_AGENTS.mac, 1280)).newPage());
    await page.goto(`${base}/admin`);
  });

  afterEach(() => scriptErrors.check());

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const login = (username: string, userAgent: string) => signInToSample(app, username, { 'user-agent': userAgent });

  const meStatus = async ({ access }: SampleLogin) =>
    (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${access}` } })).status;

  const activeDevicesOf = (userId: string) =>
    app.get(DataSource).getRepository(Device).countBy({ userId, isActive: true });

  async function filter(values: { userId?: string; active?: string; ip?: string; seenSince?: string }) {
    await page.locator('#filters').getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.locator('#filters input[name=userId]').inputValue()).toBe('');
    if (values.userId) await page.getByLabel('User id').fill(values.userId);
    if (values.active) await page.getByLabel('Status').selectOption(values.active);
    if (values.ip) await page.getByLabel('IP address').fill(values.ip);
    if (values.seenSince) await page.getByLabel('Seen since').fill(values.seenSince);
    await page.getByRole('button', { name: 'Filter' }).click();
  }

  const rows = () => page.locator('#rows tr');
  const range = () => page.locator('#range').textContent();
  const message = () => page.locator('#message').textContent();

  it('refuses a user who is not an administrator, with the reason', async () => {
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(message).toBe('Only administrators can manage the devices of other users');
    expect(await page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await rows().count()).toBe(0);
    // The page logged out the session its refused sign-in opened.
    expect(await app.get(DataSource).getRepository(Device).countBy({ userId: '1', isActive: false })).toBe(1);
  });

  it('lists every user’s devices, the administrator’s own marked', async () => {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('admin-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // alice's attempt above is listed too, logged out.
    await expect.poll(range).toBe('1–5 of 5');
    const users = await rows().locator('.user').allTextContents();
    expect(users.toSorted()).toEqual(['1', '1', '1', '2', '3']);
    expect(await rows().filter({ hasText: '(you)' }).locator('.user').textContent()).toBe('3');
    expect(await rows().first().locator('.status').textContent()).toBe('Active');
    if (SCREENSHOTS) await page.screenshot({ path: new URL('admin-panel.png', SCREENSHOTS).pathname, fullPage: true });
  });

  it('filters by user, status, IP address and time last seen', async () => {
    await filter({ userId: '2' });
    await expect.poll(range).toBe('1–1 of 1');
    expect(await page.getByRole('button', { name: 'Log out all devices of user 2' }).isVisible()).toBe(true);

    await filter({ active: 'false' });
    await expect.poll(range).toBe('1–1 of 1');
    expect(await rows().first().locator('.user').textContent()).toBe('1');

    await filter({ ip: '127.0.0.1', active: 'true' });
    await expect.poll(range).toBe('1–4 of 4');
    await filter({ ip: '192.0.2.1' });
    await expect.poll(range).toBe('0 devices');
    expect(await page.locator('#empty').isVisible()).toBe(true);

    await filter({ seenSince: '2999-01-01T00:00' });
    await expect.poll(range).toBe('0 devices');
    await filter({ seenSince: '2000-01-01T00:00' });
    await expect.poll(range).toBe('1–5 of 5');
  });

  it('shows a bad filter’s error as the API words it, and keeps the panel', async () => {
    await filter({ ip: 'not-an-address' });
    await expect.poll(message).toMatch(/^ip must be/);
    expect(await page.locator('#panel').isVisible()).toBe(true);
  });

  it('logs out another user’s device, which loses access at once', async () => {
    await filter({ userId: '2' });
    await expect.poll(range).toBe('1–1 of 1');
    expect(await meStatus(tokens.bob!)).toBe(200);
    await rows().first().getByRole('button', { name: 'Log out' }).click();
    await expect.poll(message).toBe('Chrome 130 on macOS of user 2 was logged out.');
    expect(await rows().first().locator('.status').textContent()).toBe('Logged out just now');
    expect(await meStatus(tokens.bob!)).toBe(401);
    expect(await activeDevicesOf('2')).toBe(0);
  });

  it('asks before logging out every device of a user, and a “no” changes nothing', async () => {
    await filter({ userId: '1' });
    await expect.poll(range).toBe('1–3 of 3');
    const asked = answerNextDialog(page, 'dismiss');
    await page.getByRole('button', { name: 'Log out all devices of user 1' }).click();
    expect(await asked).toBe('Log out all devices of user 1? Each of them will have to sign in again.');
    expect(await activeDevicesOf('1')).toBe(2);
    expect(await meStatus(tokens.aliceMac!)).toBe(200);
    expect(await page.locator('#message').isVisible()).toBe(false);
    expect(await rows().locator('.status').allTextContents()).toContain('Active');
  });

  it('logs out every device of one user', async () => {
    await filter({ userId: '1' });
    await expect.poll(range).toBe('1–3 of 3');
    const asked = answerNextDialog(page, 'accept');
    await page.getByRole('button', { name: 'Log out all devices of user 1' }).click();
    expect(await asked).toMatch(/^Log out all devices of user 1\?/);
    await expect.poll(message).toBe('Logged out 2 devices of user 1.');
    expect(await meStatus(tokens.aliceMac!)).toBe(401);
    expect(await meStatus(tokens.aliceIphone!)).toBe(401);
    expect(await activeDevicesOf('1')).toBe(0);
  });

  it('logs out the user the table was loaded with, not an id typed since without filtering', async () => {
    tokens.bobAgain = await login('bob', USER_AGENTS.iphone);
    await filter({ userId: '2' });
    await expect.poll(range).toBe('1–2 of 2');
    // The administrator's own id, typed but not filtered by.
    await page.getByLabel('User id').fill('3');
    const asked = answerNextDialog(page, 'accept');
    await page.getByRole('button', { name: 'Log out all devices of user 2' }).click();
    expect(await asked).toMatch(/^Log out all devices of user 2\?/);
    await expect.poll(message).toBe('Logged out 1 device of user 2.');
    expect(await meStatus(tokens.bobAgain!)).toBe(401);
    expect(await activeDevicesOf('2')).toBe(0);
    expect(await activeDevicesOf('3')).toBe(1);
    // The table shown is reloaded as it was: still user 2's devices, all logged out.
    expect(await rows().locator('.user').allTextContents()).toEqual(['2', '2']);
    expect(await rows().locator('.status').allTextContents()).not.toContain('Active');
  });

  it('pages through many devices', async () => {
    for (let index = 0; index < 18; index++) await login('bob', USER_AGENTS.iphone);
    await filter({});
    await expect.poll(range).toBe('1–20 of 24');
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(range).toBe('21–24 of 24');
    expect(await rows().count()).toBe(4);
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
  });

  it('shows a hostile user agent as text, never as markup', async () => {
    await login('alice', HOSTILE_USER_AGENT);
    await filter({ userId: '1', active: 'true' });
    await expect.poll(range).toBe('1–1 of 1');
    const row = rows().first();
    expect(await row.locator('.agent').textContent()).toBe(HOSTILE_USER_AGENT);
    expect(await row.locator('.name').textContent()).toBe('<img src=x onerror="window.pwned=1"> 1');
    expect(await row.locator('img, script').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
  });

  it('drops a list answered after signing out', async () => {
    const held = await holdNextAnswer(page, '/api/admin/devices');
    await page.getByRole('button', { name: 'Filter' }).click();
    await held.answered;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(message).toBe('You signed out of the admin panel.');
    await held.release();
    await settle(page);
    expect(await page.locator('#panel').isVisible()).toBe(false);
    expect(await rows().count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await message()).toBe('You signed out of the admin panel.');
  });
});
