import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { getRepositoryToken } from '@nestjs/typeorm';
import {
  Device,
  DeviceService,
  DeviceTrackerEvents,
  type DeviceLoggedOutEvent,
  type DeviceView,
  type RefreshTokenReuseDetectedEvent,
} from 'nestjs-device-tracker';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../sample-app/src/config.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startSampleApp } from './support/sample-app.js';
import { claimsOf, jtiOf, sidOf, storedIdOf } from './support/token-claims.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';
const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' } as const;
const USER_IDS = { alice: '1', bob: '2' } as const;
const LOGGED_OUT = 'This device has been logged out; sign in again';

/** The secrets, issuer and audience of the sample app's tokens (it runs on `loadConfig({})`'s defaults). */
const SAMPLE_JWT = loadConfig({}).jwt;
const { issuer, audience } = SAMPLE_JWT;

/** What the tracker stores for a refresh token: the SHA-256 of its jti. */

/** An access token the sample app accepts as authentic, with whatever claims the test needs. */
const signAccess = (claims: Record<string, unknown>) =>
  new JwtService().sign(
    { sub: USER_IDS.alice, username: 'alice', typ: 'access', ...claims },
    { secret: SAMPLE_JWT.accessSecret, expiresIn: SAMPLE_JWT.accessTtl, issuer, audience },
  );

/** A refresh token the sample app accepts as authentic (a valid signature), with the given claims. */
const signRefresh = (claims: Record<string, unknown>) =>
  new JwtService().sign(
    { sub: USER_IDS.alice, typ: 'refresh', ...claims },
    { secret: SAMPLE_JWT.refreshSecret, expiresIn: SAMPLE_JWT.refreshTtl, issuer, audience },
  );

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
  sid: string;
}

interface RecordedEvent {
  name: string;
  payload: unknown;
}

/** Everything the device tracker emits on the app's EventEmitter2 until `stop()`. */
function recordEvents(app: INestApplication): { events: RecordedEvent[]; stop: () => void } {
  const emitter = app.get(EventEmitter2);
  const events: RecordedEvent[] = [];
  const listeners = Object.values(DeviceTrackerEvents).map((name) => {
    const listener = (payload: unknown) => events.push({ name, payload });
    emitter.on(name, listener);
    return { name, listener };
  });
  return {
    events,
    stop: () => listeners.forEach(({ name, listener }) => emitter.off(name, listener)),
  };
}

/** Helpers over HTTP for one running sample app. */
function client(getApp: () => INestApplication) {
  const http = () => request(getApp().getHttpServer());

  async function login(
    username: keyof typeof PASSWORDS,
    { userAgent = CHROME_MAC, deviceId }: { userAgent?: string; deviceId?: string } = {},
  ): Promise<Login> {
    const call = http().post('/auth/login').set('user-agent', userAgent);
    if (deviceId) call.set('x-device-id', deviceId);
    const response = await call.send({ username, password: PASSWORDS[username] }).expect(200);
    const access = response.body.access_token as string;
    return {
      access,
      refresh: response.body.refresh_token as string,
      deviceId: response.headers['x-device-id'] as string,
      sid: sidOf(access),
    };
  }

  return {
    http,
    login,
    me: (token: string) => http().get('/me').auth(token, { type: 'bearer' }),
    list: (token: string) => http().get('/api/devices').auth(token, { type: 'bearer' }),
    refresh: (token: string, userAgent = CHROME_MAC) =>
      http().post('/auth/refresh').set('user-agent', userAgent).send({ refresh_token: token }),
    post: (path: string, token: string) => http().post(path).auth(token, { type: 'bearer' }),
  };
}

describe(`device sessions (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const { login, me, list, refresh, post } = client(() => app);

  beforeAll(async () => {
    app = await startSampleApp();
    devices = app.get<Repository<Device>>(getRepositoryToken(Device));
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());

  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('a session per login', () => {
    it('signs the same new sid into both tokens at every login, stores it on the device and serves /me for it', async () => {
      const first = await login('alice');
      const second = await login('alice', { userAgent: SAFARI_IPHONE });
      const again = await login('alice', { deviceId: first.deviceId });

      for (const session of [first, second, again]) {
        expect(session.sid).toMatch(/^[0-9a-f-]{36}$/);
        expect(sidOf(session.refresh)).toBe(session.sid);
      }
      expect(new Set([first.sid, second.sid, again.sid]).size).toBe(3);
      expect(again.deviceId).toBe(first.deviceId);

      expect(await devices.findOneByOrFail({ id: first.deviceId })).toMatchObject({ sessionId: again.sid });
      expect(await devices.findOneByOrFail({ id: second.deviceId })).toMatchObject({ sessionId: second.sid });

      for (const session of [second, again]) {
        const response = await me(session.access).expect(200);
        expect(response.body).toEqual({ id: USER_IDS.alice, username: 'alice', deviceId: session.deviceId });
      }
    });

    it('never shows a session id in the devices list', async () => {
      const alice = await login('alice');
      const response = await list(alice.access).expect(200);
      expect((response.body as DeviceView[]).map((device) => device.id)).toEqual([alice.deviceId]);
      expect(response.text).not.toContain(alice.sid);
    });
  });

  describe('logging one device out', () => {
    it("kills that device's unexpired tokens at once; the user's other device and other users keep working", async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      const bob = await login('bob');
      // The laptop's session is known (and cached) as active before the logout.
      await me(laptop.access).expect(200);
      await list(laptop.access).expect(200);

      const response = await post(`/api/devices/${laptop.deviceId}/logout`, phone.access).expect(200);
      expect(response.body).toMatchObject({ id: laptop.deviceId, isActive: false, isCurrent: false });

      const refused = await me(laptop.access).expect(401);
      expect(refused.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: LOGGED_OUT });
      expect((await list(laptop.access).expect(401)).body.message).toBe(LOGGED_OUT);
      await post(`/api/devices/${phone.deviceId}/logout`, laptop.access).expect(401);
      await refresh(laptop.refresh).expect(401);

      expect((await me(phone.access).expect(200)).body.deviceId).toBe(phone.deviceId);
      const phoneList = (await list(phone.access).expect(200)).body as DeviceView[];
      expect(phoneList.find((device) => device.id === laptop.deviceId)).toMatchObject({ isActive: false });
      expect((await me(bob.access).expect(200)).body).toEqual({
        id: USER_IDS.bob,
        username: 'bob',
        deviceId: bob.deviceId,
      });
      await refresh(phone.refresh).expect(200);
      await refresh(bob.refresh).expect(200);
    });

    it("cannot log out another user's device, and that user's session stays valid", async () => {
      const alice = await login('alice');
      const bob = await login('bob');
      await me(bob.access).expect(200);

      await post(`/api/devices/${bob.deviceId}/logout`, alice.access).expect(404);

      await me(bob.access).expect(200);
      expect(await devices.findOneByOrFail({ id: bob.deviceId })).toMatchObject({ isActive: true });
    });
  });

  describe('a device logged out elsewhere', () => {
    it('logs itself out: its own token is refused from the next request on', async () => {
      const alice = await login('alice');
      await me(alice.access).expect(200);

      await post(`/api/devices/${alice.deviceId}/logout`, alice.access).expect(200);

      expect((await me(alice.access).expect(401)).body.message).toBe(LOGGED_OUT);
      await refresh(alice.refresh).expect(401);
    });

    it('is refused on first sight when the database already says it is logged out', async () => {
      const alice = await login('alice');
      // Logged out by something this instance heard nothing about (another instance, an operator).
      await devices.update({ id: alice.deviceId }, { isActive: false, revokedAt: new Date() });

      expect((await me(alice.access).expect(401)).body.message).toBe(LOGGED_OUT);
      await list(alice.access).expect(401);
    });
  });

  describe('a new login from the same device', () => {
    it("replaces the earlier login's session: its access and refresh tokens die, the new ones work, one row", async () => {
      const first = await login('alice');
      await me(first.access).expect(200);

      const second = await login('alice', { deviceId: first.deviceId, userAgent: SAFARI_IPHONE });

      expect(second.deviceId).toBe(first.deviceId);
      expect(second.sid).not.toBe(first.sid);
      expect((await me(first.access).expect(401)).body.message).toBe(LOGGED_OUT);
      await list(first.access).expect(401);
      await refresh(first.refresh).expect(401);

      // The earlier login's refresh token is refused without being taken for theft: the new login lives on.
      expect((await me(second.access).expect(200)).body.deviceId).toBe(first.deviceId);
      await list(second.access).expect(200);
      const rotated = await refresh(second.refresh).expect(200);
      expect(sidOf(rotated.body.access_token)).toBe(second.sid);
      await me(rotated.body.access_token).expect(200);

      const rows = await devices.find();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: first.deviceId, sessionId: second.sid, isActive: true });
    });
  });

  describe('logout-others and logout-all', () => {
    it("keeps the device of the caller's session, whatever device id header the request carries", async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });

      const response = await post('/api/devices/logout-others', phone.access)
        .set('x-device-id', laptop.deviceId)
        .expect(200);

      expect(response.body).toEqual({ loggedOut: 1 });
      await me(phone.access).expect(200);
      await me(laptop.access).expect(401);
    });

    it("logout-others kills the other devices' tokens and keeps the caller's", async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      const tablet = await login('alice', { userAgent: FIREFOX_LINUX });
      const bob = await login('bob');
      // The tablet's session is left uncached: both the cached and the database answer must change.
      for (const session of [laptop, phone, bob]) await me(session.access).expect(200);

      // No device id header: the device is known from the token's session.
      const response = await post('/api/devices/logout-others', phone.access).expect(200);

      expect(response.body).toEqual({ loggedOut: 2 });
      for (const session of [laptop, tablet]) {
        expect((await me(session.access).expect(401)).body.message).toBe(LOGGED_OUT);
        await list(session.access).expect(401);
      }
      expect((await me(phone.access).expect(200)).body.deviceId).toBe(phone.deviceId);
      await me(bob.access).expect(200);
      const active = await devices.findBy({ userId: USER_IDS.alice, isActive: true });
      expect(active.map((device) => device.id)).toEqual([phone.deviceId]);
    });

    it("logout-all kills every device of the caller, its own included, and no one else's", async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      const bob = await login('bob');
      for (const session of [laptop, phone, bob]) await me(session.access).expect(200);
      const recorder = recordEvents(app);

      const response = await post('/api/devices/logout-all', phone.access).expect(200);
      recorder.stop();

      expect(response.body).toEqual({ loggedOut: 2 });
      for (const session of [laptop, phone]) {
        expect((await me(session.access).expect(401)).body.message).toBe(LOGGED_OUT);
        await list(session.access).expect(401);
        await refresh(session.refresh).expect(401);
      }
      await post('/api/devices/logout-all', phone.access).expect(401);
      expect(await devices.countBy({ userId: USER_IDS.alice, isActive: true })).toBe(0);

      expect(recorder.events.map(({ name }) => name)).toEqual([
        DeviceTrackerEvents.DEVICE_LOGGED_OUT,
        DeviceTrackerEvents.DEVICE_LOGGED_OUT,
      ]);
      const payloads = recorder.events.map(({ payload }) => payload as DeviceLoggedOutEvent);
      expect(payloads.map(({ device }) => device.id).toSorted()).toEqual([laptop.deviceId, phone.deviceId].toSorted());
      expect(payloads.every(({ reason }) => reason === 'logout-all')).toBe(true);
      for (const secret of [laptop.sid, phone.sid, storedIdOf(laptop.refresh), jtiOf(phone.refresh)]) {
        expect(JSON.stringify(payloads)).not.toContain(secret);
      }

      expect((await me(bob.access).expect(200)).body.deviceId).toBe(bob.deviceId);
      await refresh(bob.refresh).expect(200);
    });

    it('logout-all counts only the devices still logged in', async () => {
      const laptop = await login('alice');
      await login('alice', { userAgent: SAFARI_IPHONE });
      expect((await post('/api/devices/logout-all', laptop.access).expect(200)).body).toEqual({ loggedOut: 2 });

      // A valid token needs a live session, so repeating the call means logging in again: only that login counts.
      const again = await login('alice', { deviceId: laptop.deviceId });
      await me(again.access).expect(200);
      await me(laptop.access).expect(401);
      expect((await post('/api/devices/logout-all', again.access).expect(200)).body).toEqual({ loggedOut: 1 });
      await me(again.access).expect(401);
      // Nothing is left to log out.
      expect(await app.get(DeviceService).logoutAll(USER_IDS.alice)).toBe(0);
      expect(await devices.countBy({ userId: USER_IDS.alice })).toBe(2);
    });
  });

  describe('the session cache', () => {
    it('answers a hot session and a just logged-out one without reading the database', async () => {
      const laptop = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      await me(laptop.access).expect(200);

      const findOne = vi.spyOn(devices, 'findOne');
      const findOneBy = vi.spyOn(devices, 'findOneBy');
      for (let i = 0; i < 20; i++) {
        expect((await me(laptop.access).expect(200)).body.deviceId).toBe(laptop.deviceId);
      }
      expect(findOne).not.toHaveBeenCalled();
      expect(findOneBy).not.toHaveBeenCalled();
      vi.restoreAllMocks();

      await post(`/api/devices/${laptop.deviceId}/logout`, phone.access).expect(200);

      const afterLogout = vi.spyOn(devices, 'findOne');
      expect((await me(laptop.access).expect(401)).body.message).toBe(LOGGED_OUT);
      await list(laptop.access).expect(401);
      expect(afterLogout).not.toHaveBeenCalled();
    });

    it('the first request of a session asks the database once, then remembers the answer', async () => {
      const alice = await login('alice');
      // The login itself puts nothing in the guard's cache.
      const findOne = vi.spyOn(devices, 'findOne');
      await me(alice.access).expect(200);
      expect(findOne).toHaveBeenCalledTimes(1);
      await me(alice.access).expect(200);
      await list(alice.access).expect(200);
      expect(findOne).toHaveBeenCalledTimes(1);
    });

    it('keeps serving a cached session while the database is unreachable', async () => {
      const alice = await login('alice');
      await me(alice.access).expect(200);

      vi.spyOn(devices, 'findOne').mockRejectedValue(new Error('connection lost'));
      expect((await me(alice.access).expect(200)).body.deviceId).toBe(alice.deviceId);
    });
  });

  describe('failing closed', () => {
    it('answers 503, in the standard error shape, for a session it cannot check', async () => {
      const alice = await login('alice');
      const findOne = vi.spyOn(devices, 'findOne').mockRejectedValue(new Error('connection lost'));

      for (const call of [me(alice.access), list(alice.access)]) {
        const response = await call.expect(503);
        expect(response.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.any(String),
        });
        expect(response.body.message).toMatch(/device session/i);
        expect(response.text).not.toContain('connection lost');
        expect(response.text).not.toMatch(/\bat .+:\d+:\d+/);
        expect(response.text).not.toContain(alice.sid);
      }
      expect(findOne).toHaveBeenCalled();

      findOne.mockRestore();
      expect((await me(alice.access).expect(200)).body.deviceId).toBe(alice.deviceId);
    });

    it('does not take a failed check for a logout: the session works again once the database answers', async () => {
      const alice = await login('alice');
      vi.spyOn(devices, 'findOne').mockRejectedValueOnce(new Error('connection lost'));
      await me(alice.access).expect(503);

      await me(alice.access).expect(200);
      await refresh(alice.refresh).expect(200);
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: true });
    });
  });

  describe('access tokens without a usable session', () => {
    it.each([
      ['no sid claim', {}],
      ['an empty sid', { sid: '' }],
      ['a numeric sid', { sid: 42 }],
      ['a sid too long to be stored', { sid: 'x'.repeat(256) }],
    ])('refuses a token with %s with 401, never 500', async (_label, claims) => {
      const alice = await login('alice');
      const token = signAccess(claims);
      for (const call of [me(token), list(token), post('/api/devices/logout-all', token)]) {
        const response = await call.expect(401);
        expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(response.body.message).toMatch(/sid/);
      }
      // Nothing was logged out by the attempt.
      await me(alice.access).expect(200);
    });

    it('refuses a session that does not exist, or whose id differs only in case', async () => {
      const alice = await login('alice');
      for (const sid of [randomUUID(), alice.sid.toUpperCase(), `${alice.sid} `]) {
        const response = await me(signAccess({ sid })).expect(401);
        expect(response.body.message).toBe(LOGGED_OUT);
      }
      await me(alice.access).expect(200);
    });

    it("refuses another user's session, whether or not it is cached", async () => {
      const alice = await login('alice');
      const forged = signAccess({ sub: USER_IDS.bob, username: 'bob', sid: alice.sid });

      expect((await me(forged).expect(401)).body.message).toBe(LOGGED_OUT);
      await me(alice.access).expect(200);
      expect((await me(forged).expect(401)).body.message).toBe(LOGGED_OUT);
      await me(alice.access).expect(200);
    });
  });

  describe('refresh within the reuse grace period', () => {
    it('accepts two concurrent refreshes with the same token and keeps the device logged in', async () => {
      const alice = await login('alice');
      const recorder = recordEvents(app);

      const [first, second] = await Promise.all([refresh(alice.refresh), refresh(alice.refresh)]);
      recorder.stop();

      expect([first.status, second.status]).toEqual([200, 200]);
      for (const response of [first, second]) {
        expect(sidOf(response.body.access_token)).toBe(alice.sid);
        await me(response.body.access_token).expect(200);
      }
      expect(jtiOf(first.body.refresh_token)).not.toBe(jtiOf(second.body.refresh_token));
      const row = await devices.findOneByOrFail({ id: alice.deviceId });
      expect(row).toMatchObject({
        isActive: true,
        sessionId: alice.sid,
        previousRefreshTokenJti: storedIdOf(alice.refresh),
      });
      expect([storedIdOf(first.body.refresh_token), storedIdOf(second.body.refresh_token)]).toContain(
        row.refreshTokenJti,
      );
      expect(recorder.events).toEqual([]);
      await me(alice.access).expect(200);
    });

    it('lets the client go on with whichever of the two concurrently issued refresh tokens it kept', async () => {
      const alice = await login('alice');
      const [first, second] = await Promise.all([refresh(alice.refresh), refresh(alice.refresh)]);
      expect([first.status, second.status]).toEqual([200, 200]);
      // Of the two new tokens, the one stored last is current; the other is the one a client may well have kept
      // (two tabs sharing one storage, whichever answer was written last).
      const current = (await devices.findOneByOrFail({ id: alice.deviceId })).refreshTokenJti;
      const kept = [first.body.refresh_token as string, second.body.refresh_token as string].find(
        (token) => storedIdOf(token) !== current,
      )!;

      await refresh(kept).expect(200);
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: true });
      await me(alice.access).expect(200);
    });

    it('never lets a logged-out device refresh, not even within the grace period', async () => {
      const alice = await login('alice');
      const phone = await login('alice', { userAgent: SAFARI_IPHONE });
      const rotated = await refresh(alice.refresh).expect(200);
      await post(`/api/devices/${alice.deviceId}/logout`, phone.access).expect(200);

      await refresh(alice.refresh).expect(401);
      await refresh(rotated.body.refresh_token).expect(401);
      await me(rotated.body.access_token).expect(401);
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: false });
    });

    it('accepts the replaced token presented again shortly after a refresh', async () => {
      const alice = await login('alice');
      const rotated = await refresh(alice.refresh).expect(200);
      const replay = await refresh(alice.refresh).expect(200);

      expect(sidOf(replay.body.refresh_token)).toBe(alice.sid);
      await me(replay.body.access_token).expect(200);
      await me(rotated.body.access_token).expect(200);
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: true });
    });
  });
});

describe(`device sessions: refresh token reuse after the grace period (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const { login, me, list, refresh, post } = client(() => app);
  const clock = new ManualClock();
  /** A replay in the millisecond of the rotation is still within a zero grace: the clock moves past it. */
  const pastGrace = () => clock.advance(5);

  beforeAll(async () => {
    app = await startSampleApp({ refreshReuseGraceMs: 0 }, false, clock);
    devices = app.get<Repository<Device>>(getRepositoryToken(Device));
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());

  it('logs the device out when a rotated refresh token comes back, and says so without leaking secrets', async () => {
    const alice = await login('alice');
    const phone = await login('alice', { userAgent: SAFARI_IPHONE });
    const bob = await login('bob');
    await me(alice.access).expect(200);
    const rotated = await refresh(alice.refresh).expect(200);
    const b = rotated.body as { access_token: string; refresh_token: string };
    await me(b.access_token).expect(200);
    pastGrace();

    const recorder = recordEvents(app);
    const replay = await refresh(alice.refresh, FIREFOX_LINUX).expect(401);
    recorder.stop();

    expect(replay.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: false });
    await refresh(b.refresh_token).expect(401);
    for (const token of [alice.access, b.access_token]) {
      expect((await me(token).expect(401)).body.message).toBe(LOGGED_OUT);
      await list(token).expect(401);
    }

    expect(recorder.events.map(({ name }) => name).toSorted()).toEqual(
      [DeviceTrackerEvents.DEVICE_LOGGED_OUT, DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED].toSorted(),
    );
    const loggedOut = recorder.events.find(({ name }) => name === DeviceTrackerEvents.DEVICE_LOGGED_OUT)!
      .payload as DeviceLoggedOutEvent;
    const reuse = recorder.events.find(({ name }) => name === DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED)!
      .payload as RefreshTokenReuseDetectedEvent;
    expect(loggedOut).toMatchObject({
      reason: 'refresh-token-reuse',
      device: { id: alice.deviceId, userId: USER_IDS.alice, isActive: false },
    });
    expect(loggedOut.device.revokedAt).toEqual(new Date(clock.now()));
    expect(reuse).toMatchObject({
      device: { id: alice.deviceId, userId: USER_IDS.alice },
      ipAddress: '127.0.0.1',
      userAgent: FIREFOX_LINUX,
    });
    const serialised = JSON.stringify(recorder.events);
    for (const secret of [
      alice.access,
      alice.refresh,
      b.access_token,
      b.refresh_token,
      jtiOf(alice.refresh),
      jtiOf(b.refresh_token),
      storedIdOf(alice.refresh),
      storedIdOf(b.refresh_token),
      alice.sid,
    ]) {
      expect(serialised).not.toContain(secret);
    }

    // Only that device: the user's other device and other users are untouched.
    await me(phone.access).expect(200);
    await refresh(phone.refresh).expect(200);
    await me(bob.access).expect(200);
  });

  it('catches the reuse of a token older than the last one replaced', async () => {
    const alice = await login('alice');
    const b = (await refresh(alice.refresh).expect(200)).body.refresh_token as string;
    const c = await refresh(b).expect(200);
    pastGrace();

    await refresh(alice.refresh).expect(401);

    expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: false });
    await refresh(c.body.refresh_token).expect(401);
    await me(c.body.access_token).expect(401);
  });

  it('refuses an unknown or forged refresh token without logging anything out', async () => {
    const alice = await login('alice');
    await me(alice.access).expect(200);
    const recorder = recordEvents(app);

    const forgeries = [
      // Alice's own claims, signed with a guessed secret.
      new JwtService().sign(claimsOf(alice.refresh), { secret: 'guessed-secret' }),
      // Authentic signature, but a token id and session that were never issued.
      signRefresh({ sid: randomUUID(), jti: randomUUID() }),
      // Authentic signature, no session at all.
      signRefresh({ jti: randomUUID() }),
    ];
    for (const token of forgeries) await refresh(token).expect(401);
    recorder.stop();

    expect(recorder.events).toEqual([]);
    expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({
      isActive: true,
      refreshTokenJti: storedIdOf(alice.refresh),
    });
    await me(alice.access).expect(200);
    await refresh(alice.refresh).expect(200);
  });

  it('still refuses a rotated token of a device already logged out, without further events', async () => {
    const alice = await login('alice');
    const phone = await login('alice', { userAgent: SAFARI_IPHONE });
    await refresh(alice.refresh).expect(200);
    await post(`/api/devices/${alice.deviceId}/logout`, phone.access).expect(200);
    pastGrace();

    const recorder = recordEvents(app);
    await refresh(alice.refresh).expect(401);
    recorder.stop();

    expect(recorder.events).toEqual([]);
    await me(phone.access).expect(200);
  });
});
