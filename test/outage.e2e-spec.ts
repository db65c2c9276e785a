import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Device,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
  TrackingRetrier,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GuardedAppModule } from './fixtures/guarded-app.module.js';
import { HostAppModule } from './fixtures/host-app.module.js';
import { DeviceStore } from '../lib/persistence/device.store.js';
import { TEST_DB } from './support/database.js';
import { proxiedTestDatabase, type TcpProxy } from './support/tcp-proxy.js';
import { eventually } from './support/eventually.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';

/** The next call of `method` fails as a dropped connection would. */
const failOnce = (devices: Repository<Device>, method: 'findOne') =>
  vi.spyOn(devices, method).mockRejectedValueOnce(new Error('connection terminated unexpectedly'));
/** The next login write of a new device fails as a dropped connection would. */
const failNextInsert = (app: INestApplication) =>
  vi.spyOn(app.get(DeviceStore), 'insert').mockRejectedValueOnce(new Error('connection terminated unexpectedly'));
/** The wait before a failed login's first retry (trackingRetries: 250 ms, then doubling). */
const FIRST_RETRY = 250;

// The database is reached through a proxy the test can cut: PostgreSQL, as `.ci/run` runs it.
describe.runIf(TEST_DB === 'postgres')('a PostgreSQL outage in the middle of a run', () => {
  let proxy: TcpProxy;
  let app: INestApplication;
  /** The app's time: the retries wait on it, and run as the test moves it on. */
  const clock = new ManualClock();
  const statuses: number[] = [];
  const http = () => request(app.getHttpServer());

  /**
   * Moves the clock `ms` on, 50 ms at a time, as real time would pass: after each step, the retries it started are
   * waited for until each has landed or failed and waits for its next attempt.
   */
  async function elapse(ms: number): Promise<void> {
    const retrier = app.get(TrackingRetrier);
    for (let step = 0; step < ms; step += 50) {
      clock.advance(Math.min(50, ms - step));
      await vi.waitFor(() => expect(clock.pendingTimers()).toBe(retrier.stats().pending), { timeout: 10_000 });
    }
  }

  async function call(test: request.Test): Promise<request.Response> {
    const response = await test;
    statuses.push(response.status);
    return response;
  }
  const login = (userId: string, deviceId?: string) =>
    call(
      http()
        .post('/login')
        .set(deviceId ? { 'x-device-id': deviceId } : {})
        .send({ userId }),
    );
  const list = (token: string) => call(http().get('/devices').auth(token, { type: 'bearer' }));

  beforeAll(async () => {
    const proxied = await proxiedTestDatabase();
    proxy = proxied.proxy;
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ trackingRetries: 8 }), proxied.database)],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await app?.close();
    await proxy?.close();
  });

  it(
    'answers 2xx, 401 or 503, never 500, and loses or duplicates no device once the database is back',
    {
      timeout: 60_000,
    },
    async () => {
      const before = await login('alice');
      expect((await list(before.body.access_token)).status).toBe(200); // alice's session is now cached

      clock.advance(1000); // the outage starts a second later
      await proxy.cut();
      // Cached: the session check needs no database, the listing does, and says so with a 503.
      expect((await list(before.body.access_token)).status).toBe(503);
      // Logins go on; their devices wait for the database.
      const during = [];
      for (const userId of ['bob', 'carol', 'dave', 'erin', 'bob']) during.push(await login(userId));
      during.push(await login('alice', before.headers['x-device-id']));
      for (const response of during) expect(response.status).toBe(200);
      // New devices get the id their retried write will use; alice's device keeps the id she presented.
      const newDevices = during.slice(0, -1);
      for (const response of newDevices) expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(during.at(-1)!.headers['x-device-id']).toBeUndefined();
      // Not cached and not checkable: refused with 503, not let through.
      expect((await list(during[0]!.body.access_token)).status).toBe(503);
      expect(app.get(TrackingRetrier).stats().failed).toBeGreaterThanOrEqual(during.length);

      // The database stays away for 1.5 s, in which the retries' first attempts fail too.
      await elapse(1500);
      await proxy.restore();

      const devices = app.get(DataSource).getRepository(Device);
      const expectedIds = new Set(
        [before, ...during.slice(0, -1)].map((response) => response.headers['x-device-id'] as string),
      );
      expect(
        await eventually(
          async () => {
            try {
              await elapse(100); // time goes on while the test waits
              return (await devices.count()) === expectedIds.size && app.get(TrackingRetrier).stats().pending === 0;
            } catch {
              return false;
            }
          },
          { timeoutMs: 30_000, everyMs: 100 },
        ),
      ).toBe(true);
      const rows = await devices.find();
      expect(new Set(rows.map((row) => row.id))).toEqual(expectedIds);
      expect(app.get(TrackingRetrier).stats()).toMatchObject({ abandoned: 0, pending: 0 });

      // Every login made during the outage now works, and alice's device is on its latest session.
      for (const response of during) expect((await list(response.body.access_token)).status).toBe(200);
      expect((await list(before.body.access_token)).status).toBe(401);
      expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
    },
  );
});

describe(`the outage policy options (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  /** The app's time: a retry waits on it, and runs when the test moves it on. */
  let clock: ManualClock;
  afterEach(() => app?.close());
  afterEach(() => vi.restoreAllMocks());

  async function start(options: DeviceTrackerModuleOptions) {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot(options))],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
    return app.get(DataSource).getRepository(Device);
  }
  const http = () => request(app!.getHttpServer());

  it('by default answers the login and writes the device on a retry', async () => {
    const devices = await start({});
    failNextInsert(app!);
    const login = await http().post('/login').send({ userId: 'u1' }).expect(200);
    const deviceId = login.headers['x-device-id'];

    // The row is there a moment before the retrier has counted its write: wait for both, as the suite above does.
    const retrier = app!.get(TrackingRetrier);
    const written = async () => (await devices.countBy({ id: deviceId })) === 1 && retrier.stats().pending === 0;
    clock.advance(FIRST_RETRY);
    expect(await eventually(written)).toBe(true);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 1, abandoned: 0, pending: 0 });
    await http().get('/devices').auth(login.body.access_token, { type: 'bearer' }).expect(200);
  });

  it("refuses the login with 503 when whenTrackingFails is 'refuse'", async () => {
    const devices = await start({ whenTrackingFails: 'refuse' });
    failNextInsert(app!);
    const login = await http().post('/login').send({ userId: 'u1' }).expect(503);

    expect(login.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Cannot record this sign-in right now; try again shortly',
    });
    expect(login.headers['x-device-id']).toBeUndefined();
    expect(await devices.count()).toBe(0);
  });

  it("lets an unchecked session through when whenSessionCheckFails is 'allow', but never on the devices endpoints", async () => {
    for (const [whenSessionCheckFails, status] of [
      ['allow', 200],
      ['refuse', 503],
    ] as const) {
      const moduleRef = await Test.createTestingModule({
        imports: [
          GuardedAppModule.with(DeviceTrackerModule.forRoot({ whenSessionCheckFails }), { guards: 'controller' }),
        ],
      }).compile();
      app = await startTestApp(moduleRef, { logger: false });
      const devices = app.get(DataSource).getRepository(Device);
      const login = await http().post('/login').send({ userId: 'u1' }).expect(200);

      failOnce(devices, 'findOne');
      await http().get('/me').auth(login.body.access_token, { type: 'bearer' }).expect(status);
      // A device logged out elsewhere must not log out the others while its session cannot be checked.
      failOnce(devices, 'findOne');
      await http().post('/devices/logout-others').auth(login.body.access_token, { type: 'bearer' }).expect(503);
      await app.close();
      app = undefined;
    }
  });
});
