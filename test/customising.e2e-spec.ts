import type { DynamicModule, INestApplication, NestInterceptor, Type } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import {
  DEVICES_TABLE,
  Device,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  InMemoryRevocationNotifier,
  type TrackDeviceInterceptor,
  TrackingRetrier,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccountAnswer,
  AccountInterceptor,
  accountIdOf,
  CustomisedAppModule,
  type LoginAnswer,
  SeamsProbe,
  SIGN_IN_PAUSED,
} from './fixtures/customised-app.module.js';
import { FIXTURE_JWT_SECRET } from './fixtures/host-app.module.js';
import { TEST_DB, testDatabaseOptions } from './support/database.js';
import { eventually } from './support/eventually.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';
import { claimsOf, storedIdOf } from './support/token-claims.js';

const LOGGED_OUT = { statusCode: 401, message: 'This device has been logged out; sign in again' };
/** The default interceptor's warning for a login result it finds no refresh token in. */
const noRefreshTokenWarnings = (logs: LogCollector) =>
  logs.lines.warn.filter((line) => line.startsWith('[DeviceTracker] No refresh token found in the login result'));
const CHECK_UNAVAILABLE = 'Cannot check this device session right now; try again shortly';

/** What the tracker stores for a refresh token: the SHA-256 of its jti. */
const sessionOf = (token: string) => claimsOf(token).session_id as string;
const sign = (claims: object) => new JwtService({ secret: FIXTURE_JWT_SECRET }).sign(claims);

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

async function start(deviceTracker: DynamicModule, logger: LogCollector | false = false, shareDatabase = false) {
  // A second app on a database server shares the first one's tables rather than dropping them.
  const database = shareDatabase ? { ...testDatabaseOptions(), dropSchema: false } : undefined;
  const moduleRef = await Test.createTestingModule({
    imports: [CustomisedAppModule.with(deviceTracker, database)],
  }).compile();
  return startTestApp(moduleRef, { logger });
}

const customised = (options: Parameters<typeof DeviceTrackerModule.forRoot>[0] = {}) =>
  DeviceTrackerModule.forRoot({ interceptor: AccountInterceptor, ...options });

const http = (app: INestApplication) => request(app.getHttpServer());
const devicesOf = (app: INestApplication): Repository<Device> => app.get(DataSource).getRepository(Device);
const get = (app: INestApplication, path: string, token?: string) =>
  token ? http(app).get(path).auth(token, { type: 'bearer' }) : http(app).get(path);

async function login(app: INestApplication, username: string): Promise<Login> {
  const response = await http(app).post('/login').send({ username }).expect(200);
  const { tokens } = response.body as LoginAnswer;
  return { access: tokens.access, refresh: tokens.refresh, deviceId: response.headers['x-device-id'] };
}

async function logOut(app: INestApplication, device: Login, from: Login = device): Promise<void> {
  await http(app).post(`/devices/${device.deviceId}/logout`).auth(from.access, { type: 'bearer' }).expect(200);
}

/**
 * A real outage of the store, with no mock: while `during` runs, the devices table is renamed away (a statement that
 * is the same on SQLite, PostgreSQL and MariaDB), so every query on it fails with the database's own error.
 */
async function outage<T>(app: INestApplication, during: () => Promise<T>): Promise<T> {
  const database = app.get(DataSource);
  await database.query(`ALTER TABLE ${DEVICES_TABLE} RENAME TO ${DEVICES_TABLE}_away`);
  try {
    return await during();
  } finally {
    await database.query(`ALTER TABLE ${DEVICES_TABLE}_away RENAME TO ${DEVICES_TABLE}`);
  }
}

describe(`a TrackDeviceInterceptor subclass given as forRoot({ interceptor }) (${TEST_DB})`, () => {
  const logs = new LogCollector();
  let app: INestApplication;
  /** The same host app with the default interceptor: what the subclass changes. */
  let control: INestApplication;

  beforeAll(async () => {
    app = await start(customised(), logs);
    control = await start(DeviceTrackerModule.forRoot(), logs, true);
  });

  afterAll(async () => {
    await control?.close();
    await app?.close();
  });

  beforeEach(async () => {
    await devicesOf(app).clear();
    await devicesOf(control).clear();
    AccountInterceptor.lookedIn.length = 0;
    logs.clear();
  });

  it('records the refresh token its getRefreshToken reads from { tokens: { refresh } }, until the device logs out', async () => {
    const alice = await login(app, 'alice');
    const service = app.get(DeviceService);

    expect(await devicesOf(app).findOneByOrFail({ id: alice.deviceId })).toMatchObject({
      refreshTokenJti: storedIdOf(alice.refresh),
    });
    expect(await service.isRefreshTokenActive(alice.refresh)).toBe(true);
    await logOut(app, alice);
    expect(await service.isRefreshTokenActive(alice.refresh)).toBe(false);
    expect(noRefreshTokenWarnings(logs)).toEqual([]);
  });

  it('the default interceptor misses that token: it warns and the token was never tracked', async () => {
    const alice = await login(control, 'alice');

    expect(noRefreshTokenWarnings(logs)).toHaveLength(1);
    expect(await control.get(DeviceService).isRefreshTokenActive(alice.refresh)).toBe(false);
    expect(await devicesOf(control).findOneByOrFail({ id: alice.deviceId })).toMatchObject({ refreshTokenJti: null });
  });

  it('records the device for the user its getUserId names (request.user.accountId), who then lists it', async () => {
    const carol = await login(app, 'carol');

    expect((await devicesOf(app).findOneByOrFail({ id: carol.deviceId })).userId).toBe(accountIdOf('carol'));
    const listed = await get(app, '/devices', carol.access).expect(200);
    expect(listed.body.map((device: { id: string }) => device.id)).toEqual([carol.deviceId]);
    // The default reads request.user.id: the username, which the tokens do not name.
    const other = await login(control, 'carol');
    expect((await devicesOf(control).findOneByOrFail({ id: other.deviceId })).userId).toBe('carol');
  });

  it('replaces the default interceptor rather than running beside it: one login, one lookup, one row', async () => {
    const dave = await login(app, 'dave');

    expect(AccountInterceptor.lookedIn).toEqual([{ tokens: { access: dave.access, refresh: dave.refresh } }]);
    expect(await devicesOf(app).find()).toMatchObject([{ id: dave.deviceId, userId: accountIdOf('dave') }]);
    // The default one, had it run too, would have warned about the nested token.
    expect(noRefreshTokenWarnings(logs)).toEqual([]);
  });

  it('answers a login whose device cannot be written with its own 503; the default answers 200 and retries', async () => {
    const refused = await outage(app, () => http(app).post('/login').send({ username: 'erin' }).expect(503));
    expect(refused.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: SIGN_IN_PAUSED });
    expect(refused.headers['x-device-id']).toBeUndefined();
    // Refused, so not retried either: nothing will write it later.
    expect(app.get(TrackingRetrier).stats()).toMatchObject({ failed: 0, pending: 0 });
    expect(await devicesOf(app).countBy({ userId: accountIdOf('erin') })).toBe(0);

    const answered = await outage(control, () => http(control).post('/login').send({ username: 'erin' }).expect(200));
    const deviceId = answered.headers['x-device-id'];
    expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);
    // Written by a background retry once the table is back.
    const retrier = control.get(TrackingRetrier);
    expect(await eventually(() => retrier.stats().pending === 0)).toBe(true);
    expect(retrier.stats()).toMatchObject({ failed: 1, recovered: 1, abandoned: 0 });
    expect(await devicesOf(control).countBy({ id: deviceId })).toBe(1);
  });

  it('is refused when the module is defined if it does not extend TrackDeviceInterceptor, naming the option', () => {
    class NotATracker implements NestInterceptor {
      intercept(_context: never, next: { handle(): never }) {
        return next.handle();
      }
    }
    const interceptor = NotATracker as unknown as Type<TrackDeviceInterceptor>;
    const message = 'DeviceTrackerModule: interceptor must be a class that extends TrackDeviceInterceptor';

    expect(() => DeviceTrackerModule.forRoot({ interceptor })).toThrow(message);
    expect(() => DeviceTrackerModule.forRootAsync({ useFactory: () => ({}), interceptor })).toThrow(message);
  });
});

describe(`a DeviceSessionGuard subclass behind AuthGuard('jwt') on host routes (${TEST_DB})`, () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await start(customised());
  });

  afterAll(() => app?.close());

  beforeEach(() => devicesOf(app).clear());

  it('reads the session from its session_id claim: 200, then 401 as soon as another device logs this one out', async () => {
    const laptop = await login(app, 'alice');
    const phone = await login(app, 'alice');
    const session = { deviceId: laptop.deviceId, sessionId: sessionOf(laptop.access) };
    // Tokens that carry one of the two claims: the host's guard goes by session_id alone.
    const sessionIdOnly = sign({ sub: accountIdOf('alice'), session_id: session.sessionId });
    const sidOnly = sign({ sub: accountIdOf('alice'), sid: session.sessionId });

    for (const token of [laptop.access, sessionIdOnly]) {
      const me = await get(app, '/me', token).expect(200);
      expect(me.body).toEqual<AccountAnswer>({ accountId: accountIdOf('alice'), device: session });
    }
    expect((await get(app, '/me', sidOnly).expect(401)).body.message).toMatch(/carries no device session/);

    await logOut(app, laptop, phone);

    for (const token of [laptop.access, sessionIdOnly]) {
      expect((await get(app, '/me', token).expect(401)).body).toMatchObject(LOGGED_OUT);
    }
    await get(app, '/me', phone.access).expect(200);
  });

  it('lets the routes its shouldSkip picks (/public…) through even for a logged-out device, still authenticated', async () => {
    const alice = await login(app, 'alice');
    await logOut(app, alice);

    expect((await get(app, '/me', alice.access).expect(401)).body).toMatchObject(LOGGED_OUT);
    const status = await get(app, '/public/status', alice.access).expect(200);
    expect(status.body).toEqual<AccountAnswer>({ accountId: accountIdOf('alice'), device: null });
    // Skipping the device check is not skipping authentication: AuthGuard('jwt') still runs first.
    await get(app, '/public/status').expect(401);
  });

  it('when sessions cannot be checked, its handleCheckFailure lets reads through unchecked and refuses writes', async () => {
    // Nothing is cached yet: every check below has to ask the database.
    const alice = await login(app, 'alice');

    await outage(app, async () => {
      const read = await get(app, '/me', alice.access).expect(200);
      expect(read.body).toEqual<AccountAnswer>({ accountId: accountIdOf('alice'), device: null });
      const write = await http(app).post('/me').auth(alice.access, { type: 'bearer' }).expect(503);
      expect(write.body).toMatchObject({ statusCode: 503, message: CHECK_UNAVAILABLE });
      // The module's own routes keep the default guard: whenSessionCheckFails 'refuse'.
      expect((await get(app, '/devices', alice.access).expect(503)).body.message).toBe(CHECK_UNAVAILABLE);
    });

    const checked = await get(app, '/me', alice.access).expect(200);
    expect(checked.body.device).toEqual({ deviceId: alice.deviceId, sessionId: sessionOf(alice.access) });
  });
});

describe(`the seams, injected by their tokens into host providers (${TEST_DB})`, () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('@Inject(RevocationNotifier) is the notifier given as forRoot({ revocationNotifier }), which logouts go through', async () => {
    class RecordingNotifier extends InMemoryRevocationNotifier {
      readonly published: string[][] = [];
      override publish(sessionIds: string[]): Promise<void> {
        this.published.push(sessionIds);
        return super.publish(sessionIds);
      }
    }
    const notifier = new RecordingNotifier();
    app = await start(customised({ revocationNotifier: notifier }));

    expect(app.get(SeamsProbe).notifier).toBe(notifier);
    const alice = await login(app, 'alice');
    await logOut(app, alice);
    expect(notifier.published).toEqual([[sessionOf(alice.access)]]);
  });

  it('without one, it is the InMemoryRevocationNotifier the module listens to; @Inject(DeviceTrackerClock) is the system clock', async () => {
    app = await start(customised());
    const { notifier, clock } = app.get(SeamsProbe);
    const alice = await login(app, 'alice');
    await get(app, '/me', alice.access).expect(200);

    expect(notifier).toBeInstanceOf(InMemoryRevocationNotifier);
    // Announced by the host, on the injected notifier: the module refuses the session though its row is active.
    await notifier.publish([sessionOf(alice.access)]);
    expect((await get(app, '/me', alice.access).expect(401)).body).toMatchObject(LOGGED_OUT);
    expect(await devicesOf(app).findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: true });

    const before = Date.now();
    const now = clock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe(`DeviceTrackerClock overridden with a manual clock (${TEST_DB})`, () => {
  const START = Date.UTC(2030, 0, 1);
  const clock = {
    t: START,
    now() {
      return this.t;
    },
  };
  let app: INestApplication;
  const rowOf = (device: Login) => devicesOf(app).findOneByOrFail({ id: device.deviceId });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CustomisedAppModule.with(customised())],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
  });

  afterAll(() => app?.close());

  it("stamps a login's createdAt, lastLoginAt and lastSeenAt with the clock's time, not the wall clock's", async () => {
    const alice = await login(app, 'alice');

    expect(app.get(SeamsProbe).clock).toBe(clock);
    const stamped = new Date(clock.t);
    expect(await rowOf(alice)).toMatchObject({ createdAt: stamped, lastLoginAt: stamped, lastSeenAt: stamped });
    const listed = await get(app, '/devices', alice.access).expect(200);
    expect(listed.body[0]).toMatchObject({ createdAt: stamped.toISOString(), lastLoginAt: stamped.toISOString() });
  });

  it('writes lastSeenAt on a guarded request only once the clock has moved past lastSeenInterval (60 s)', async () => {
    const loggedInAt = new Date(clock.t);
    const alice = await login(app, 'alice');
    // The first guarded request opens this instance's interval (it writes nothing: the login was just now).
    await get(app, '/me', alice.access).expect(200);

    clock.t += 59_000;
    await get(app, '/me', alice.access).expect(200);
    expect((await rowOf(alice)).lastSeenAt).toEqual(loggedInAt);

    clock.t += 2_000;
    await get(app, '/me', alice.access).expect(200);
    const seenAt = clock.t;
    expect(await eventually(async () => (await rowOf(alice)).lastSeenAt.getTime() === seenAt)).toBe(true);
    expect(await rowOf(alice)).toMatchObject({ lastLoginAt: loggedInAt, createdAt: loggedInAt });
  });
});
