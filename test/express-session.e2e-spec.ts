import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Device, type DeviceTrackerModuleOptions, type DeviceView } from 'nestjs-device-tracker';
import request, { type Agent } from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_USERS, SessionAppModule, type SessionUsername } from './fixtures/session-app.module.js';
import { TEST_DB } from './support/database.js';
import { createTestApp, initTestApp } from './support/platform.js';
import { SESSION_COOKIE, SESSION_MIDDLEWARE, testSessions, type TestSessions } from './support/sessions.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** A browser of the test: a cookie jar, and what its last login was recorded as. */
interface Browser {
  agent: Agent;
  deviceId: string;
  /** The session the browser's cookie names, as the store keys it. */
  sessionId: string;
  /** The `sid=…` cookie pair of that session, to replay it after the browser moved on. */
  sessionCookie: string;
  /** The answer to the login. */
  login: request.Response;
}

const setCookies = (response: request.Response): string[] =>
  ([] as string[]).concat(response.headers['set-cookie'] ?? []);

const listDevices = async ({ agent }: Browser): Promise<DeviceView[]> => (await agent.get('/devices').expect(200)).body;

/** Answers of `/me` and `/devices` for the browser's cookie. */
const statuses = async ({ agent }: Browser) => [(await agent.get('/me')).status, (await agent.get('/devices')).status];

/** Which listed device is marked current. */
const currentOf = (listed: DeviceView[]) => Object.fromEntries(listed.map((device) => [device.id, device.isCurrent]));

describe(`a host app on ${SESSION_MIDDLEWARE} (${TEST_DB})`, () => {
  let app: INestApplication;
  let sessions: TestSessions;
  let devices: Repository<Device>;

  async function start({ resave = false, maxDevices }: { resave?: boolean } & DeviceTrackerModuleOptions = {}) {
    sessions = testSessions();
    const moduleRef = await Test.createTestingModule({
      imports: [SessionAppModule.with(sessions.store, { maxDevices })],
    }).compile();
    app = createTestApp(moduleRef, { logger: false });
    await sessions.install(app, { resave });
    await initTestApp(app);
    devices = app.get(DataSource).getRepository(Device);
  }

  beforeEach(() => start());

  afterEach(() => app?.close());

  const storedSessions = () => sessions.all();
  const storedSessionIds = async () => Object.keys(await storedSessions()).toSorted();

  const newAgent = (userAgent: string) => request.agent(app.getHttpServer()).set('user-agent', userAgent);

  /** Signs `username` in on `agent` and finds the session the login created in the store. */
  async function signIn(agent: Agent, username: SessionUsername): Promise<Browser> {
    const before = new Set(await storedSessionIds());
    const response = await agent
      .post('/login')
      .send({ username, password: SESSION_USERS[username].password })
      .expect(200);
    expect(response.body.user).toEqual({ id: SESSION_USERS[username].id, username });
    const created = (await storedSessionIds()).filter((id) => !before.has(id));
    expect(created).toHaveLength(1);
    const sessionCookie = setCookies(response)
      .find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`))
      ?.split(';')[0];
    expect(sessionCookie).toBeDefined();
    return {
      agent,
      deviceId: response.headers['x-device-id'],
      sessionId: created[0]!,
      sessionCookie: sessionCookie!,
      login: response,
    };
  }

  const browser = (username: SessionUsername, userAgent = CHROME_MAC) => signIn(newAgent(userAgent), username);

  describe('login', () => {
    it('tracks the device on the session the login ended on, and sets the device and session cookies', async () => {
      const alice = await browser('alice');

      expect(alice.deviceId).toMatch(/^[0-9a-f-]{36}$/);
      const cookies = setCookies(alice.login);
      expect(cookies).toContainEqual(expect.stringMatching(new RegExp(`^device_id=${alice.deviceId};.*HttpOnly`)));
      // s:<session id>.<signature>, URL-encoded by express-session only.
      expect(cookies.map((cookie) => decodeURIComponent(cookie))).toContainEqual(
        expect.stringMatching(new RegExp(`^${SESSION_COOKIE}=s:${alice.sessionId}\\.`)),
      );
      const rows = await devices.find();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: alice.deviceId,
        userId: SESSION_USERS.alice.id,
        sessionId: alice.sessionId,
        refreshTokenJti: null,
        isActive: true,
        browser: 'Chrome',
        os: 'macOS',
      });
      expect((await storedSessions())[alice.sessionId]).toMatchObject({ userId: SESSION_USERS.alice.id });
    });

    it('gives each browser its own device and session, each tied to its own session id', async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const bob = await browser('bob', SAFARI_IPHONE);

      expect(new Set([a.deviceId, b.deviceId, bob.deviceId]).size).toBe(3);
      expect(await storedSessionIds()).toEqual([a.sessionId, b.sessionId, bob.sessionId].toSorted());
      const rows = await devices.find();
      expect(Object.fromEntries(rows.map((row) => [row.id, { sessionId: row.sessionId, userId: row.userId }]))).toEqual(
        {
          [a.deviceId]: { sessionId: a.sessionId, userId: '1' },
          [b.deviceId]: { sessionId: b.sessionId, userId: '1' },
          [bob.deviceId]: { sessionId: bob.sessionId, userId: '2' },
        },
      );
    });

    it('hands the login handler, through @CurrentDevice(), the session the login is recorded as', async () => {
      const alice = await browser('alice');

      expect(alice.login.body.device).toEqual({ deviceId: alice.deviceId, sessionId: alice.sessionId });
    });

    it('tracks nothing and stores no session for a wrong password or an unknown user', async () => {
      const agent = newAgent(CHROME_MAC);
      await agent.post('/login').send({ username: 'alice', password: 'bob-password' }).expect(401);
      await agent.post('/login').send({ username: 'mallory', password: 'x' }).expect(401);
      await agent.post('/login').send({ username: 'toString', password: 'x' }).expect(401);

      expect(await devices.count()).toBe(0);
      expect(await storedSessionIds()).toEqual([]);
      await agent.get('/me').expect(401);
      await agent.get('/devices').expect(401);
    });
  });

  describe('DeviceSessionGuard, without any token claim', () => {
    it("verifies each request's session and hands the route its device", async () => {
      const alice = await browser('alice');

      const me = await alice.agent.get('/me').expect(200);
      // request.user carries no session claim: the guard checked the session's id.
      expect(me.body).toEqual({
        user: { id: SESSION_USERS.alice.id },
        device: { deviceId: alice.deviceId, sessionId: alice.sessionId },
      });
    });

    it('refuses a logged-out device even while its session survives in the store', async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const saved = (await storedSessions())[a.sessionId]!;

      await b.agent.post(`/devices/${a.deviceId}/logout`).expect(200);
      // As if destroying it had failed, or a replica of the store still had it: the cookie authenticates again…
      await sessions.put(a.sessionId, saved);

      // …but the device tracker still says no.
      const refused = await a.agent.get('/me').expect(401);
      expect(refused.body.message).toMatch(/logged out/);
      await a.agent.get('/devices').expect(401);
      await b.agent.get('/me').expect(200);
    });

    it('refuses a signed-in session whose login was never tracked', async () => {
      const alice = await browser('alice');
      await devices.delete({ id: alice.deviceId });

      const refused = await alice.agent.get('/me').expect(401);
      expect(refused.body.message).toMatch(/logged out/);
    });
  });

  describe('GET /devices', () => {
    it("lists the signed-in user's devices, marking the one of each browser as current", async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const bob = await browser('bob', SAFARI_IPHONE);

      expect(currentOf(await listDevices(a))).toEqual({ [a.deviceId]: true, [b.deviceId]: false });
      expect(currentOf(await listDevices(b))).toEqual({ [a.deviceId]: false, [b.deviceId]: true });
      expect(currentOf(await listDevices(bob))).toEqual({ [bob.deviceId]: true });

      const listed = await listDevices(a);
      expect(listed.find((device) => device.id === b.deviceId)).toMatchObject({
        browser: 'Firefox',
        os: 'Windows',
        isActive: true,
      });
      expect(JSON.stringify(listed)).not.toContain(a.sessionId);
      expect(JSON.stringify(listed)).not.toContain(b.sessionId);
    });

    it('answers 401 without a session cookie', async () => {
      await browser('alice');
      await request(app.getHttpServer()).get('/devices').expect(401);
    });
  });

  describe('logging out', () => {
    it("logs device A out from browser B: A's session is destroyed before the answer, and A's cookie stops working", async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const bob = await browser('bob', SAFARI_IPHONE);

      const loggedOut = await b.agent.post(`/devices/${a.deviceId}/logout`).expect(200);
      expect(loggedOut.body).toMatchObject({ id: a.deviceId, isActive: false, isCurrent: false });
      // Read right after the answer: nothing was left for later.
      expect(await storedSessionIds()).toEqual([b.sessionId, bob.sessionId].toSorted());

      expect(await statuses(a)).toEqual([401, 401]);
      expect(await statuses(b)).toEqual([200, 200]);
      expect(await statuses(bob)).toEqual([200, 200]);
      expect(await devices.findOneByOrFail({ id: a.deviceId })).toMatchObject({
        isActive: false,
        revokedAt: expect.any(Date),
      });
      expect(await devices.findOneByOrFail({ id: b.deviceId })).toMatchObject({ isActive: true, revokedAt: null });
      expect(await listDevices(b)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: a.deviceId, isActive: false }),
          expect.objectContaining({ id: b.deviceId, isActive: true, isCurrent: true }),
        ]),
      );
    });

    it("cannot log out another user's device, nor touch their session", async () => {
      const alice = await browser('alice');
      const bob = await browser('bob', SAFARI_IPHONE);

      await alice.agent.post(`/devices/${bob.deviceId}/logout`).expect(404);

      expect(await storedSessionIds()).toEqual([alice.sessionId, bob.sessionId].toSorted());
      expect(await statuses(bob)).toEqual([200, 200]);
    });

    it("logout-others destroys every other session of the user and keeps this browser's", async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const c = await browser('alice', SAFARI_IPHONE);
      const bob = await browser('bob', SAFARI_IPHONE);

      const answer = await b.agent.post('/devices/logout-others').expect(200);
      expect(answer.body).toEqual({ loggedOut: 2 });
      expect(await storedSessionIds()).toEqual([b.sessionId, bob.sessionId].toSorted());

      expect(await statuses(a)).toEqual([401, 401]);
      expect(await statuses(c)).toEqual([401, 401]);
      expect(await statuses(b)).toEqual([200, 200]);
      expect(await statuses(bob)).toEqual([200, 200]);
      const active = await devices.find({ where: { isActive: true }, order: { userId: 'ASC' } });
      expect(active.map((device) => device.id)).toEqual([b.deviceId, bob.deviceId]);
    });

    it("logout-all destroys every session of the user, this browser's included, and no one else's", async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const bob = await browser('bob', SAFARI_IPHONE);

      const answer = await a.agent.post('/devices/logout-all').expect(200);
      expect(answer.body).toEqual({ loggedOut: 2 });
      // The caller's own session is gone too: the middleware must not have saved it back when the answer went out.
      expect(await storedSessionIds()).toEqual([bob.sessionId]);

      expect(await statuses(a)).toEqual([401, 401]);
      expect(await statuses(b)).toEqual([401, 401]);
      expect(await statuses(bob)).toEqual([200, 200]);
      expect(await devices.countBy({ userId: SESSION_USERS.alice.id, isActive: true })).toBe(0);
      expect(await devices.countBy({ userId: SESSION_USERS.bob.id, isActive: true })).toBe(1);
    });
  });

  // resave: express-session's default when not given; rolling: @fastify/session's default.
  describe('logging out when unmodified sessions are saved back (resave, rolling)', () => {
    beforeEach(async () => {
      await app.close();
      await start({ resave: true });
    });

    // The middleware saves the request's session again as the answer goes out, after the module destroyed it.
    it("removes the caller's own session from the store too", async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);

      await a.agent.post('/devices/logout-all').expect(200);

      expect(await statuses(a)).toEqual([401, 401]);
      expect(await statuses(b)).toEqual([401, 401]);
      // The other browser's session is gone; the caller's own one must be gone as well.
      expect(await storedSessionIds()).not.toContain(b.sessionId);
      expect(await storedSessionIds()).not.toContain(a.sessionId);
    });
  });

  describe('a login refused by maxDevices', () => {
    beforeEach(async () => {
      await app.close();
      await start({ maxDevices: { limit: 1, policy: 'reject' } });
    });

    // The login guard signed the session in before the limit was checked; it must not be saved.
    it('leaves no signed-in session behind', async () => {
      await browser('alice', CHROME_MAC);
      const before = await storedSessionIds();
      const refused = newAgent(FIREFOX_WINDOWS);

      const answer = await refused
        .post('/login')
        .send({ username: 'alice', password: SESSION_USERS.alice.password })
        .expect(403);
      expect(answer.body.message).toMatch(/Too many devices/);
      expect(await storedSessionIds()).toEqual(before);
      await refused.get('/me').expect(401);
      expect(await devices.countBy({ userId: SESSION_USERS.alice.id })).toBe(1);
    });
  });

  describe('signing in again', () => {
    it('on a logged-out browser reactivates the same device on a new session', async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const saved = (await storedSessions())[a.sessionId]!;
      await b.agent.post(`/devices/${a.deviceId}/logout`).expect(200);

      const again = await signIn(a.agent, 'alice');

      expect(again.deviceId).toBe(a.deviceId);
      expect(again.sessionId).not.toBe(a.sessionId);
      expect(await devices.findOneByOrFail({ id: a.deviceId })).toMatchObject({
        isActive: true,
        revokedAt: null,
        sessionId: again.sessionId,
      });
      expect(await devices.countBy({ userId: SESSION_USERS.alice.id })).toBe(2);
      expect(await storedSessionIds()).toEqual([again.sessionId, b.sessionId].toSorted());
      expect(await statuses(again)).toEqual([200, 200]);
      expect((await a.agent.get('/me').expect(200)).body.device).toEqual({
        deviceId: a.deviceId,
        sessionId: again.sessionId,
      });

      // The old session stays dead, even if it came back to the store.
      await sessions.put(a.sessionId, saved);
      await request(app.getHttpServer()).get('/me').set('cookie', a.sessionCookie).expect(401);
    });

    it('on an active browser moves its device to the new session and ends the old one', async () => {
      const a = await browser('alice', CHROME_MAC);
      const b = await browser('alice', FIREFOX_WINDOWS);
      const saved = (await storedSessions())[a.sessionId]!;
      await request(app.getHttpServer()).get('/me').set('cookie', a.sessionCookie).expect(200);

      const again = await signIn(a.agent, 'alice');

      expect(again.deviceId).toBe(a.deviceId);
      expect(again.sessionId).not.toBe(a.sessionId);
      expect(await storedSessionIds()).toEqual([again.sessionId, b.sessionId].toSorted());
      expect(await devices.findOneByOrFail({ id: a.deviceId })).toMatchObject({
        isActive: true,
        sessionId: again.sessionId,
      });
      expect(await devices.countBy({ userId: SESSION_USERS.alice.id })).toBe(2);
      await request(app.getHttpServer()).get('/me').set('cookie', a.sessionCookie).expect(401);

      // Refused by the device tracker, not only because the store forgot it.
      await sessions.put(a.sessionId, saved);
      const refused = await request(app.getHttpServer()).get('/me').set('cookie', a.sessionCookie).expect(401);
      expect(refused.body.message).toMatch(/logged out/);
      expect(await statuses(again)).toEqual([200, 200]);
      expect(await statuses(b)).toEqual([200, 200]);
    });

    it("as another user on the same browser makes that user's own device, leaving the first user's device alone", async () => {
      const alice = await browser('alice', CHROME_MAC);

      const bob = await signIn(alice.agent, 'bob');

      expect(bob.deviceId).not.toBe(alice.deviceId);
      expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({
        userId: SESSION_USERS.alice.id,
        sessionId: alice.sessionId,
      });
      expect(await devices.findOneByOrFail({ id: bob.deviceId })).toMatchObject({
        userId: SESSION_USERS.bob.id,
        sessionId: bob.sessionId,
        isActive: true,
      });
      expect((await bob.agent.get('/me').expect(200)).body.device.deviceId).toBe(bob.deviceId);
    });
  });
});
