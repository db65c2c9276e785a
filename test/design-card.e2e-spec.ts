import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Device, type DeviceView } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DesignCardAppModule, LaterAdditionsController } from './fixtures/design-card-app.module.js';
import { TEST_DB } from './support/database.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';
import { claimsOf } from './support/token-claims.js';

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' } as const;
const REFRESH_REFUSED = 'Refresh token has been revoked or already used';

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
  cookie: string;
}

/** The warnings that tell the host how to turn on immediate access-token revocation. */
const claimsWarnings = (logs: LogCollector) => logs.lines.warn.filter((line) => line.includes('device.claims'));

describe(`the design-card app: no sid anywhere, only the four steps (${TEST_DB})`, () => {
  const logs = new LogCollector();
  let app: INestApplication;
  let devices: Repository<Device>;
  const http = () => request(app.getHttpServer());

  async function login(username: keyof typeof PASSWORDS): Promise<Login> {
    const response = await http().post('/auth/login').send({ username, password: PASSWORDS[username] }).expect(200);
    const cookie = ([] as string[])
      .concat(response.headers['set-cookie'] ?? [])
      .find((candidate) => candidate.startsWith('device_id='));
    return {
      access: response.body.access_token,
      refresh: response.body.refresh_token,
      deviceId: response.headers['x-device-id'],
      cookie: cookie?.split(';')[0] ?? '',
    };
  }

  const get = (path: string, caller: Login, headers: Record<string, string> = {}) =>
    http().get(path).auth(caller.access, { type: 'bearer' }).set(headers);
  const post = (path: string, caller: Login, headers: Record<string, string> = {}) =>
    http().post(path).auth(caller.access, { type: 'bearer' }).set(headers);
  const refresh = (token: string) => http().post('/auth/refresh').send({ refresh_token: token });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DesignCardAppModule],
      controllers: [LaterAdditionsController],
    })
      .setLogger(logs)
      .compile();
    app = await startTestApp(moduleRef, { logger: logs });
    devices = app.get(DataSource).getRepository(Device);
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());

  it('tracks the login: the device row, its id handed back, and tokens as the app signs them (no sid)', async () => {
    const alice = await login('alice');

    expect(alice.deviceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(alice.cookie).toBe(`device_id=${alice.deviceId}`);
    expect(claimsOf(alice.access)).not.toHaveProperty('sid');
    expect(claimsOf(alice.refresh)).not.toHaveProperty('sid');
    expect(await devices.findBy({ userId: '1' })).toEqual([
      expect.objectContaining({ id: alice.deviceId, isActive: true }),
    ]);
    // The app's own routes are untouched.
    expect((await get('/profile', alice).expect(200)).body).toEqual({ userId: '1', username: 'alice' });
  });

  it('lists my devices, isCurrent taken from the x-device-id header', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    await login('bob');

    const listed: DeviceView[] = (await get('/devices', laptop, { 'x-device-id': phone.deviceId }).expect(200)).body;
    const current = Object.fromEntries(listed.map((device) => [device.id, device.isCurrent]));
    expect(current).toEqual({ [laptop.deviceId]: false, [phone.deviceId]: true });
    // A claimless token says nothing about its device: without the header or the cookie, none is current.
    const unmarked: DeviceView[] = (await get('/devices', laptop).expect(200)).body;
    expect(unmarked.map((device) => device.isCurrent)).toEqual([false, false]);
  });

  it('lists my devices, isCurrent taken from the device_id cookie', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');

    const listed: DeviceView[] = (await get('/devices', phone, { cookie: laptop.cookie }).expect(200)).body;
    expect(listed).toHaveLength(2);
    expect(listed.find((device) => device.isCurrent)?.id).toBe(laptop.deviceId);
    expect(listed.find((device) => device.id === phone.deviceId)?.isCurrent).toBe(false);
  });

  it("logs out one device; the app's refresh route refuses its refresh token at once", async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    // Both refresh tokens work before the logout (the refreshed phone keeps its new pair).
    const phoneTokens = (await refresh(phone.refresh).expect(200)).body;

    const loggedOut = await post(`/devices/${laptop.deviceId}/logout`, phone, { 'x-device-id': phone.deviceId });
    expect(loggedOut.status).toBe(200);
    expect(loggedOut.body).toMatchObject({ id: laptop.deviceId, isActive: false, isCurrent: false });

    expect((await refresh(laptop.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
    await refresh(phoneTokens.refresh_token).expect(200);
    expect(await devices.findOneByOrFail({ id: laptop.deviceId })).toMatchObject({ isActive: false });
    expect(await devices.findOneByOrFail({ id: phone.deviceId })).toMatchObject({ isActive: true });
  });

  it("answers 404 for another user's device, and leaves it logged in", async () => {
    const alice = await login('alice');
    const bob = await login('bob');

    const answer = await post(`/devices/${bob.deviceId}/logout`, alice).expect(404);
    expect(answer.body.statusCode).toBe(404);
    expect(await devices.findOneByOrFail({ id: bob.deviceId })).toMatchObject({ isActive: true });
    await refresh(bob.refresh).expect(200);
  });

  it('logs out the others, keeping the device the request presents', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    const tablet = await login('alice');
    const bob = await login('bob');

    const answer = await post('/devices/logout-others', tablet, { 'x-device-id': tablet.deviceId }).expect(200);
    expect(answer.body).toEqual({ loggedOut: 2 });

    await refresh(laptop.refresh).expect(401);
    await refresh(phone.refresh).expect(401);
    await refresh(tablet.refresh).expect(200);
    await refresh(bob.refresh).expect(200);
  });

  it('logs out the others only when the request says which device it is', async () => {
    const laptop = await login('alice');
    await login('alice');

    await post('/devices/logout-others', laptop).expect(400);
    expect(await devices.countBy({ userId: '1', isActive: true })).toBe(2);
  });

  it('logs out all my devices, and no one else', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    const bob = await login('bob');

    expect((await post('/devices/logout-all', laptop).expect(200)).body).toEqual({ loggedOut: 2 });

    expect((await refresh(laptop.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
    expect((await refresh(phone.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
    await refresh(bob.refresh).expect(200);
    expect(await devices.countBy({ userId: '1', isActive: true })).toBe(0);
  });

  it('warns once per process, naming the edit that turns on immediate access-token revocation', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    await get('/devices', laptop).expect(200);
    await get('/devices', phone, { 'x-device-id': phone.deviceId }).expect(200);
    await get('/profile', laptop).expect(200);
    await refresh(laptop.refresh).expect(200);
    await post(`/devices/${laptop.deviceId}/logout`, phone).expect(200);

    // Every earlier test of this app logged in and called the endpoints too: still one warning in all.
    expect(claimsWarnings(logs)).toEqual([expect.stringMatching(/^\[DeviceTracker\] /)]);
  });

  it('refuses the claimless token with an actionable 401 where the host asks for the session check', async () => {
    const alice = await login('alice');

    const refused = await get('/later/checked', alice).expect(401);
    expect(refused.body.message).toContain('device.claims');
    // The host's other routes and the devices endpoints keep working for the same token.
    await get('/profile', alice).expect(200);
    await get('/devices', alice).expect(200);
  });

  it('answers @CurrentDevice() where no device is known with a 500 that names the fix, not a TypeError', async () => {
    const alice = await login('alice');
    const errorsBefore = logs.lines.error.length;

    const answer = await get('/later/device', alice).expect(500);
    expect(answer.body.statusCode).toBe(500);
    expect(answer.body.message).toContain('@TrackDevice()');
    expect(JSON.stringify(answer.body)).not.toMatch(/TypeError|Cannot read propert/);
    expect(logs.lines.error.slice(errorsBefore).join('\n')).not.toMatch(/TypeError|Cannot read propert/);
  });
});
