import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Device, type DeviceView } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_DB } from './support/database.js';
import { PLATFORM } from './support/platform.js';
import { startSampleApp } from './support/sample-app.js';
import { DEVICE_VIEW_KEYS } from './support/view-keys.js';
import { jtiOf, sidOf, storedIdOf } from './support/token-claims.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' } as const;
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

/** What the tracker stores for a refresh token: the SHA-256 of its jti, never the jti or the token. */

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
  cookie: string;
}

describe(`devices endpoints of the sample app (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const http = () => request(app.getHttpServer());

  async function login(
    username: keyof typeof PASSWORDS,
    { userAgent = CHROME_MAC, headers = {} }: { userAgent?: string; headers?: Record<string, string> } = {},
  ): Promise<Login> {
    const response = await http()
      .post('/auth/login')
      .set({ 'user-agent': userAgent, ...headers })
      .send({ username, password: PASSWORDS[username] })
      .expect(200);
    const cookie = ([] as string[])
      .concat(response.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('device_id='));
    return {
      access: response.body.access_token,
      refresh: response.body.refresh_token,
      deviceId: response.headers['x-device-id'],
      cookie: cookie ?? '',
    };
  }

  const list = (session: Login, headers: Record<string, string> = {}) =>
    http().get('/api/devices').auth(session.access, { type: 'bearer' }).set(headers);

  const refresh = (token: string) => http().post('/auth/refresh').send({ refresh_token: token });

  beforeAll(async () => {
    app = await startSampleApp();
    devices = app.get(DataSource).getRepository(Device);
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());

  describe('tracking on login', () => {
    it('records the device with its IP, user agent, readable name and refresh token id', async () => {
      const alice = await login('alice');

      expect(alice.deviceId).toMatch(/^[0-9a-f-]{36}$/);
      expect(alice.cookie).toMatch(new RegExp(`^device_id=${alice.deviceId};.*HttpOnly`, 'i'));
      const rows = await devices.find();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: alice.deviceId,
        userId: '1',
        ipAddress: '127.0.0.1',
        userAgent: CHROME_MAC,
        deviceName: 'Chrome 130 on macOS',
        browser: 'Chrome',
        os: 'macOS',
        deviceType: 'desktop',
        refreshTokenJti: storedIdOf(alice.refresh),
        isActive: true,
        revokedAt: null,
      });
    });

    it('keeps one row per device when the device id comes back in the header or the cookie', async () => {
      const first = await login('alice');
      const byHeader = await login('alice', { headers: { 'x-device-id': first.deviceId } });
      const byCookie = await login('alice', { userAgent: SAFARI_IPHONE, headers: { cookie: first.cookie } });

      expect(byHeader.deviceId).toBe(first.deviceId);
      expect(byCookie.deviceId).toBe(first.deviceId);
      const rows = await devices.find();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ refreshTokenJti: storedIdOf(byCookie.refresh), deviceName: 'Safari 17 on iOS' });
      expect(rows[0].lastLoginAt.getTime()).toBeGreaterThanOrEqual(rows[0].createdAt.getTime());
      // The device's earlier refresh tokens were replaced by the latest login's.
      await refresh(first.refresh).expect(401);
      await refresh(byCookie.refresh).expect(200);
    });

    it('makes two rows for two devices', async () => {
      await login('alice');
      await login('alice', { userAgent: SAFARI_IPHONE });
      expect(await devices.count()).toBe(2);
    });

    it("never links a login to another user's device, whatever id it presents", async () => {
      const bob = await login('bob');
      const alice = await login('alice', { headers: { 'x-device-id': bob.deviceId, cookie: bob.cookie } });

      expect(alice.deviceId).not.toBe(bob.deviceId);
      const bobRow = await devices.findOneByOrFail({ id: bob.deviceId });
      expect(bobRow).toMatchObject({ userId: '2', refreshTokenJti: storedIdOf(bob.refresh), isActive: true });
      expect(await devices.countBy({ userId: '1' })).toBe(1);
    });

    it('ignores a malformed device id and tracks a new device', async () => {
      const alice = await login('alice', { headers: { 'x-device-id': "1' OR '1'='1" } });
      expect(alice.deviceId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await devices.count()).toBe(1);
    });

    it('tracks nothing when the login fails', async () => {
      await http().post('/auth/login').send({ username: 'alice', password: 'wrong' }).expect(401);
      expect(await devices.count()).toBe(0);
    });

    it('stores an over-long user agent cut short and a missing one as "Unknown device"', async () => {
      await login('alice', { userAgent: `Mozilla/5.0 ${'x'.repeat(10_000)}` });
      await http()
        .post('/auth/login')
        .unset('User-Agent')
        .send({ username: 'bob', password: PASSWORDS.bob })
        .expect(200);

      const alice = await devices.findOneByOrFail({ userId: '1' });
      const bob = await devices.findOneByOrFail({ userId: '2' });
      expect(alice.userAgent).toHaveLength(512);
      expect(bob).toMatchObject({ userAgent: '', deviceName: 'Unknown device', deviceType: 'unknown' });
    });

    it.each([
      ['a long product token', `${'A'.repeat(100)}/1.0 (compatible)`],
      ['a huge version number', `Mozilla/5.0 Chrome/${'9'.repeat(300)}`],
    ])('tracks an agent with %s and keeps its refresh token usable', async (_label, userAgent) => {
      const alice = await login('alice', { userAgent });
      expect(alice.deviceId).toMatch(/^[0-9a-f-]{36}$/);
      await refresh(alice.refresh).expect(200);
    });

    it('ignores X-Forwarded-For from a proxy the app does not trust', async () => {
      await login('alice', { headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect((await devices.findOneByOrFail({ userId: '1' })).ipAddress).toBe('127.0.0.1');
    });
  });

  describe('GET /api/devices', () => {
    it("lists the caller's devices, most recently seen first, marks the current one and hides token ids", async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      await login('bob');

      const response = await list(phone, { 'x-device-id': phone.deviceId }).expect(200);
      const body = response.body as DeviceView[];

      expect(body.map((device) => device.id)).toEqual([phone.deviceId, laptop.deviceId]);
      expect(body.map((device) => device.isCurrent)).toEqual([true, false]);
      expect(Object.keys(body[0]).toSorted()).toEqual(DEVICE_VIEW_KEYS);
      for (const token of [phone.refresh, laptop.refresh]) {
        expect(response.text).not.toContain(jtiOf(token));
        expect(response.text).not.toContain(storedIdOf(token));
      }
    });

    it('knows the current device from the device id cookie', async () => {
      const alice = await login('alice');
      const body = (await list(alice, { cookie: alice.cookie }).expect(200)).body as DeviceView[];
      expect(body[0].isCurrent).toBe(true);
    });
  });

  describe('POST /api/devices/:id/logout', () => {
    it('logs the device out so its refresh token can no longer be used, and is harmless to repeat', async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });

      const first = await http()
        .post(`/api/devices/${laptop.deviceId}/logout`)
        .auth(phone.access, { type: 'bearer' })
        .expect(200);
      expect(first.body).toMatchObject({ id: laptop.deviceId, isActive: false, isCurrent: false });
      expect(first.text).not.toContain(storedIdOf(laptop.refresh));

      await refresh(laptop.refresh).expect(401);
      await refresh(phone.refresh).expect(200);

      const again = await http()
        .post(`/api/devices/${laptop.deviceId}/logout`)
        .auth(phone.access, { type: 'bearer' })
        .expect(200);
      expect(again.body).toEqual(first.body);
      const row = await devices.findOneByOrFail({ id: laptop.deviceId });
      expect(row.isActive).toBe(false);
      expect(row.revokedAt).toBeInstanceOf(Date);
    });

    it("answers 404 for another user's device, exactly as for one that does not exist, and changes nothing", async () => {
      const bob = await login('bob');
      const alice = await login('alice');
      const before = await devices.findOneByOrFail({ id: bob.deviceId });

      const theirs = await http()
        .post(`/api/devices/${bob.deviceId}/logout`)
        .auth(alice.access, { type: 'bearer' })
        .expect(404);
      const missing = await http()
        .post(`/api/devices/${UNKNOWN_UUID}/logout`)
        .auth(alice.access, { type: 'bearer' })
        .expect(404);

      expect(theirs.body).toEqual(missing.body);
      expect(theirs.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Device not found' });
      expect(await devices.findOneByOrFail({ id: bob.deviceId })).toEqual(before);
      await refresh(bob.refresh).expect(200);
    });

    it('accepts the id in upper case', async () => {
      const alice = await login('alice');
      const response = await http()
        .post(`/api/devices/${alice.deviceId.toUpperCase()}/logout`)
        .auth(alice.access, { type: 'bearer' })
        .expect(200);
      expect(response.body).toMatchObject({ id: alice.deviceId, isActive: false });
    });

    it('answers 400 for a malformed id', async () => {
      const alice = await login('alice');
      const response = await http()
        .post('/api/devices/not-a-uuid/logout')
        .auth(alice.access, { type: 'bearer' })
        .expect(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Device id must be a UUID' });
    });
  });

  describe('POST /api/devices/logout-others', () => {
    it('logs out every other device of the caller and only those', async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      const tablet = await login('alice', {
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
      });
      const bob = await login('bob');

      const response = await http()
        .post('/api/devices/logout-others')
        .auth(phone.access, { type: 'bearer' })
        .set('x-device-id', phone.deviceId)
        .expect(200);

      expect(response.body).toEqual({ loggedOut: 2 });
      await refresh(laptop.refresh).expect(401);
      await refresh(tablet.refresh).expect(401);
      await refresh(phone.refresh).expect(200);
      await refresh(bob.refresh).expect(200);
    });
  });

  describe('authentication', () => {
    it.each([
      ['GET', '/api/devices'],
      ['POST', '/api/devices/logout-others'],
      ['POST', `/api/devices/${UNKNOWN_UUID}/logout`],
    ])('%s %s answers 401 without a valid access token', async (method, path) => {
      const alice = await login('alice');
      const call = () => (method === 'GET' ? http().get(path) : http().post(path));
      await call().expect(401);
      await call().auth('not.a.jwt', { type: 'bearer' }).expect(401);
      // A refresh token is not an access token.
      await call().auth(alice.refresh, { type: 'bearer' }).expect(401);
      expect(await devices.countBy({ isActive: true })).toBe(1);
    });

    it('serves /me to a logged-in user', async () => {
      const alice = await login('alice');
      const response = await http().get('/me').auth(alice.access, { type: 'bearer' }).expect(200);
      expect(response.body).toEqual({ id: '1', username: 'alice', deviceId: alice.deviceId });
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates the refresh token within the same device session', async () => {
      const alice = await login('alice');
      const rotated = await refresh(alice.refresh).expect(200);

      expect(jtiOf(rotated.body.refresh_token)).not.toBe(jtiOf(alice.refresh));
      expect(sidOf(rotated.body.refresh_token)).toBe(sidOf(alice.refresh));
      expect(sidOf(rotated.body.access_token)).toBe(sidOf(alice.access));
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({
        refreshTokenJti: storedIdOf(rotated.body.refresh_token),
        previousRefreshTokenJti: storedIdOf(alice.refresh),
      });
      await refresh(rotated.body.refresh_token).expect(200);
    });

    it('answers 400 for a body that is not a token and 401 for a forged one', async () => {
      await http().post('/auth/refresh').send({ refresh_token: 42 }).expect(400);
      const forged = new JwtService().sign({ sub: '1', typ: 'refresh', jti: 'x' }, { secret: 'guess' });
      await refresh(forged).expect(401);
    });
  });
});

describe(`the sample app behind trusted proxies (${TEST_DB})`, () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** The address recorded for a login that came through proxies which added `forwardedFor`. */
  async function recordedFor(forwardedFor: string): Promise<string | null> {
    await request(app!.getHttpServer())
      .post('/auth/login')
      .set('x-forwarded-for', forwardedFor)
      .send({ username: 'alice', password: PASSWORDS.alice })
      .expect(200);
    return (await app!.get(DataSource).getRepository(Device).findOneByOrFail({ userId: '1' })).ipAddress;
  }

  it('takes the client address from X-Forwarded-For, nearest untrusted hop first', async () => {
    app = await startSampleApp({ trustProxy: 'loopback' });
    expect(await recordedFor('198.51.100.9, 2001:db8::1')).toBe('2001:db8::1');
  });

  it('walks back over every trusted hop, and no further', async () => {
    app = await startSampleApp({ trustProxy: 'loopback, 10.0.0.0/8' });
    // The client's own claim (198.51.100.9) comes before the first untrusted hop: ignored.
    expect(await recordedFor('198.51.100.9, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
  });

  it.runIf(PLATFORM === 'express')('with a hop count, takes the address the nearest proxy saw', async () => {
    app = await startSampleApp({ trustProxy: 1 });
    expect(await recordedFor('198.51.100.9, 203.0.113.5')).toBe('203.0.113.5');
  });

  // Fastify would take the count and trust no proxy at all, so the sample app refuses it rather than ignore it.
  it.runIf(PLATFORM === 'fastify')('refuses a hop count, which Fastify cannot honour', async () => {
    await expect(startSampleApp({ trustProxy: 1 })).rejects.toThrow(/Fastify trusts no proxy by hop count/);
  });
});
