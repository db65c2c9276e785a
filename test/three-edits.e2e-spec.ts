import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  DEVICE_TRACKER_MIGRATIONS,
  DEVICES_TABLE,
  Device,
  DeviceSessionGuard,
  DeviceTrackerClock,
  type DeviceView,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ThreeEditAppModule, type ThreeEditAppOptions } from './fixtures/three-edit-app.module.js';
import { TEST_DB, testDatabaseOptions } from './support/database.js';
import { eventually } from './support/eventually.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';
import { jtiOf, sidOf } from './support/token-claims.js';

const LOGGED_OUT = 'This device has been logged out; sign in again';
const REFRESH_REFUSED = 'Refresh token has been revoked or already used';
/** Past the default `refreshReuseGrace` (10 s). */
const PAST_GRACE_MS = 10_001;

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

const http = (app: INestApplication) => request(app.getHttpServer());
const get = (app: INestApplication, path: string, token: string) => http(app).get(path).auth(token, { type: 'bearer' });
const post = (app: INestApplication, path: string, token: string) =>
  http(app).post(path).auth(token, { type: 'bearer' });
const refresh = (app: INestApplication, token: string) =>
  http(app).post('/auth/refresh').send({ refresh_token: token });

async function login(app: INestApplication, username = 'alice'): Promise<Login> {
  const response = await http(app)
    .post('/auth/login')
    .send({ username, password: `${username}-password` })
    .expect(200);
  const { access_token: access, refresh_token: refreshToken } = response.body;
  return { access, refresh: refreshToken, deviceId: response.headers['x-device-id'] };
}

/** A refresh's new pair, as a login's. */
async function refreshed(app: INestApplication, token: string, deviceId: string): Promise<Login> {
  const { body } = await refresh(app, token).expect(200);
  return { access: body.access_token, refresh: body.refresh_token, deviceId };
}

/** Both protected routes, as one caller sees them: their status codes. */
const protectedStatuses = async (app: INestApplication, token: string) => [
  (await get(app, '/me', token)).status,
  (await get(app, '/orders', token)).status,
];

describe(`the three-edit app (${TEST_DB})`, () => {
  const logs = new LogCollector();
  let now = Date.now();
  const clock = { now: () => now };
  let app: INestApplication;
  const deviceRow = (id: string) => app.get(DataSource).getRepository(Device).findOneByOrFail({ id });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ThreeEditAppModule.with()] })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .setLogger(logs)
      .compile();
    app = await startTestApp(moduleRef, { logger: logs });
  });

  afterAll(() => app?.close());

  beforeEach(() => app.get(DataSource).getRepository(Device).clear());

  it('brings its table up at start from its own migrations table, with no migration config in the app', async () => {
    const dataSource = app.get(DataSource);
    expect(dataSource.options.migrations ?? []).toEqual([]);
    expect(dataSource.options).not.toHaveProperty('autoLoadEntities');
    const applied = await dataSource
      .createQueryBuilder()
      .select('m.name', 'name')
      .from('device_tracker_migrations', 'm')
      .orderBy('m.timestamp')
      .getRawMany<{ name: string }>();
    expect(applied.map(({ name }) => name)).toEqual(DEVICE_TRACKER_MIGRATIONS.map((migration) => migration.name));

    const queryRunner = dataSource.createQueryRunner();
    try {
      expect(await queryRunner.hasTable(DEVICES_TABLE)).toBe(true);
      // The host's own migrations table is not the one used.
      expect(await queryRunner.hasTable('migrations')).toBe(false);
    } finally {
      await queryRunner.release();
    }
    const alice = await login(app);
    expect(await deviceRow(alice.deviceId)).toMatchObject({ userId: '1', isActive: true });
  });

  it('signs the session into both tokens; the unchanged strategy serves /me and /orders', async () => {
    const alice = await login(app);

    expect(sidOf(alice.access)).toEqual(expect.any(String));
    expect(sidOf(alice.refresh)).toBe(sidOf(alice.access));
    expect(jtiOf(alice.refresh)).toEqual(expect.any(String));
    expect((await get(app, '/me', alice.access).expect(200)).body).toEqual({ userId: '1', username: 'alice' });
    expect((await get(app, '/orders', alice.access).expect(200)).body).toEqual([{ id: 'order-1', owner: '1' }]);
    // The app made the edit the design-card warning names: nothing to tell it.
    expect(logs.lines.warn.filter((line) => line.includes('device.claims'))).toEqual([]);
  });

  it('refuses a device logged out from another one on every protected route at once, and its refresh', async () => {
    const laptop = await login(app);
    const phone = await login(app);
    expect(await protectedStatuses(app, laptop.access)).toEqual([200, 200]); // cached as active

    await post(app, `/devices/${laptop.deviceId}/logout`, phone.access).expect(200);

    for (const path of ['/me', '/orders']) {
      expect((await get(app, path, laptop.access).expect(401)).body.message).toBe(LOGGED_OUT);
    }
    expect((await refresh(app, laptop.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
    expect(await protectedStatuses(app, phone.access)).toEqual([200, 200]);
    // @SkipDeviceSession() exempts a route: the logged-out device still gets it.
    expect((await get(app, '/me/export', laptop.access).expect(200)).body).toEqual({ username: 'alice', orders: [] });
  });

  it('refuses a token signed without the claim, with a message that names device.claims', async () => {
    const claimless = app.get(JwtService).sign({ sub: '1', username: 'alice' });

    for (const path of ['/me', '/orders']) {
      expect((await get(app, path, claimless).expect(401)).body.message).toContain('device.claims');
    }
    await get(app, '/me/export', claimless).expect(200);
  });

  it("refuses a token signed without the claim on the module's own endpoints too: the check is app-wide", async () => {
    const alice = await login(app);
    const claimless = app.get(JwtService).sign({ sub: '1', username: 'alice' });

    expect((await get(app, '/devices', claimless).expect(401)).body.message).toContain('device.claims');
    expect((await post(app, '/devices/logout-all', claimless).expect(401)).body.message).toContain('device.claims');
    expect(await deviceRow(alice.deviceId)).toMatchObject({ isActive: true });
    await get(app, '/me', alice.access).expect(200);
  });

  it('rotates: the new pair works; the replaced refresh token after the grace logs the device out', async () => {
    const first = await login(app);
    const second = await refreshed(app, first.refresh, first.deviceId);

    expect(sidOf(second.access)).toBe(sidOf(first.access));
    expect(jtiOf(second.refresh)).not.toBe(jtiOf(first.refresh));
    expect(await protectedStatuses(app, second.access)).toEqual([200, 200]);
    expect(await deviceRow(first.deviceId)).toMatchObject({ isActive: true });

    now += PAST_GRACE_MS;
    expect((await refresh(app, first.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);

    // Reuse detection: the device is logged out, so the current tokens die too.
    expect(await deviceRow(first.deviceId)).toMatchObject({ isActive: false });
    expect((await get(app, '/me', second.access).expect(401)).body.message).toBe(LOGGED_OUT);
    expect((await refresh(app, second.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
  });

  it('accepts the replaced refresh token again within the grace (a concurrent refresh), and the device lives', async () => {
    const first = await login(app);
    await refreshed(app, first.refresh, first.deviceId);
    const raced = await refreshed(app, first.refresh, first.deviceId);

    expect(sidOf(raced.access)).toBe(sidOf(first.access));
    expect(await protectedStatuses(app, raced.access)).toEqual([200, 200]);
    expect(await deviceRow(first.deviceId)).toMatchObject({ isActive: true });
    await refresh(app, raced.refresh).expect(200);
  });

  it('refuses a refresh without a token with 400 naming the field, and a token no device has as invalid', async () => {
    const alice = await login(app);
    const missing = await http(app).post('/auth/refresh').send({}).expect(400);
    expect(missing.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'No refresh token in the request: send it as refresh_token in the body',
    });
    const unknown = await refresh(app, 'garbage').expect(401);
    expect(unknown.body.message).toBe('Invalid refresh token; sign in again');
    // The access token names a live session, so the module lets the app's own check refuse its signature.
    await refresh(app, alice.access).expect(401);
    // None of it touched the device.
    await refreshed(app, alice.refresh, alice.deviceId);
  });

  it('logs out the others (the current device known from the token alone), then all', async () => {
    const laptop = await login(app);
    const phone = await login(app);
    const tablet = await login(app);
    const bob = await login(app, 'bob');

    expect((await post(app, '/devices/logout-others', phone.access).expect(200)).body).toEqual({ loggedOut: 2 });
    expect(await protectedStatuses(app, laptop.access)).toEqual([401, 401]);
    expect(await protectedStatuses(app, tablet.access)).toEqual([401, 401]);
    const listed: DeviceView[] = (await get(app, '/devices', phone.access).expect(200)).body;
    expect(Object.fromEntries(listed.map((device) => [device.id, [device.isCurrent, device.isActive]]))).toEqual({
      [laptop.deviceId]: [false, false],
      [phone.deviceId]: [true, true],
      [tablet.deviceId]: [false, false],
    });

    expect((await post(app, '/devices/logout-all', phone.access).expect(200)).body).toEqual({ loggedOut: 1 });
    expect((await get(app, '/me', phone.access).expect(401)).body.message).toBe(LOGGED_OUT);
    await refresh(app, phone.refresh).expect(401);
    expect(await protectedStatuses(app, bob.access)).toEqual([200, 200]);
  });
});

const REDIS_URL = process.env.REDIS_URL;
/** TCP sockets this process holds open: Redis and database connections, and supertest's. */
const openSockets = () => process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
/** The fixture's channel: REDIS_CHANNEL, else the module's default. */
const CHANNEL = process.env.REDIS_CHANNEL ?? 'device-tracker:revocations';

/** A device of alice logged out on A, as B sees it: refused on both routes once the announcement lands. */
async function logoutOnAIsRefusedOnB(a: INestApplication, b: INestApplication) {
  const laptop = await login(a);
  const phone = await login(a);
  expect(await protectedStatuses(b, laptop.access)).toEqual([200, 200]); // B caches it as active (30 s)

  await post(a, `/devices/${laptop.deviceId}/logout`, phone.access).expect(200);

  expect(await eventually(async () => (await get(b, '/me', laptop.access)).status === 401)).toBe(true);
  expect((await get(b, '/me', laptop.access)).body.message).toBe(LOGGED_OUT);
  expect((await get(b, '/orders', laptop.access).expect(401)).body.message).toBe(LOGGED_OUT);
  expect((await refresh(b, laptop.refresh).expect(401)).body.message).toBe(REFRESH_REFUSED);
  expect(await protectedStatuses(b, phone.access)).toEqual([200, 200]);
}

/** Two instances need Redis (`.ci/run` sets REDIS_URL); without it this suite is reported as skipped. */
describe(`the three-edit app with a 0.1 DeviceSessionGuard left app-wide, before authentication (${TEST_DB})`, () => {
  let app: INestApplication;

  beforeAll(async () => {
    // Upgrade step 2 half done: the app-wide guard of 0.1 is still there, and runs before the routes' AuthGuard('jwt').
    @Module({
      imports: [ThreeEditAppModule.with({ redis: undefined })],
      providers: [{ provide: APP_GUARD, useClass: DeviceSessionGuard }],
    })
    class UpgradingAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [UpgradingAppModule] }).compile();
    app = await startTestApp(moduleRef);
  });

  afterAll(() => app?.close());

  it('still refuses a logged-out device on every route: a guard that saw no user decided nothing', async () => {
    const laptop = await login(app);
    const phone = await login(app);
    await post(app, `/devices/${laptop.deviceId}/logout`, phone.access).expect(200);

    for (const path of ['/me', '/orders']) {
      const refused = await get(app, path, laptop.access).expect(401);
      expect(refused.body.message).toBe(LOGGED_OUT);
    }
    await get(app, '/me', phone.access).expect(200);
  });
});

describe.runIf(Boolean(REDIS_URL))(`two instances of the three-edit app sharing ${TEST_DB} and Redis`, () => {
  const sqliteFile = join(tmpdir(), `device-tracker-three-edits-${randomUUID()}.sqlite`);
  /** One database both instances reach: on SQLite a file, since an in-memory database is one connection's. */
  const shared: DataSourceOptions =
    TEST_DB === 'sqlite' ? { type: 'better-sqlite3', database: sqliteFile, dropSchema: true } : testDatabaseOptions();
  let admin: Redis;
  let running: INestApplication[] = [];

  const subscribers = async () => Number((await admin.pubsub('NUMSUB', CHANNEL))[1]);

  /** Instance A empties the database; B joins it. Both listen once the channel has their two subscribers. */
  async function startPair(redis?: ThreeEditAppOptions['redis']): Promise<[INestApplication, INestApplication]> {
    const start = async (database: DataSourceOptions) => {
      const moduleRef = await Test.createTestingModule({
        imports: [ThreeEditAppModule.with({ database, ...(redis ? { redis } : {}) })],
      }).compile();
      const app = await startTestApp(moduleRef, { logger: false });
      running.push(app);
      return app;
    };
    const a = await start(shared);
    const b = await start({ ...shared, dropSchema: false });
    expect(await eventually(async () => (await subscribers()) === 2)).toBe(true);
    return [a, b];
  }

  /** Closed together: passport's strategies are process-wide, so the last app started serves every app's logins. */
  async function closeAll() {
    await Promise.all(running.map((app) => app.close()));
    running = [];
  }

  beforeAll(() => {
    admin = new Redis(REDIS_URL!);
  });

  afterAll(async () => {
    await closeAll();
    await admin?.quit();
    rmSync(sqliteFile, { force: true });
  });

  it('with a Redis URL: a logout on A is refused on B at once; closing the apps closes their connections', async () => {
    const socketsBefore = openSockets();
    const [a, b] = await startPair();
    await logoutOnAIsRefusedOnB(a, b);

    await closeAll();
    expect(await eventually(async () => (await subscribers()) === 0)).toBe(true);
    // The publishing connections too: the process holds no more sockets than before the apps started.
    expect(await eventually(() => openSockets() <= socketsBefore)).toBe(true);
  });

  it("with the host's ioredis client: the same, and the client stays open after both apps close", async () => {
    const client = new Redis(REDIS_URL!);
    try {
      const [a, b] = await startPair({ client, channel: CHANNEL });
      await logoutOnAIsRefusedOnB(a, b);

      await closeAll();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      // The subscriber connections the module opened itself are gone.
      expect(await eventually(async () => (await subscribers()) === 0)).toBe(true);
    } finally {
      await client.quit();
    }
  });
});
