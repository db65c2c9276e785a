import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Device,
  type DeviceRequest,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type DataSourceOptions, type Repository } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// The guard writes through the store, which the package does not export: the write itself is what is observed.
import { DeviceStore } from '../lib/persistence/device.store.js';
// And it hands every request to the recorder, which hands a write back when one is due: that is observed too.
import { LastSeenRecorder } from '../lib/sessions/last-seen-recorder.js';
import { GuardedAppModule } from './fixtures/guarded-app.module.js';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB, testDatabaseOptions } from './support/database.js';
import { LogCollector } from './support/log-collector.js';
import { ManualClock } from './support/manual-clock.js';
import { createTestApp, initTestApp, startTestApp } from './support/platform.js';

/** Addresses the app sees through `X-Forwarded-For` (it trusts the loopback proxy that supertest is). */
const LOGIN_IP = '198.51.100.7';
const SEEN_IP = '203.0.113.5';
const INTERVAL = 1000;
/** Far enough on for the interval to have passed since the last write, on this instance and in the database. */
const AFTER_INTERVAL = INTERVAL + 150;

interface Login {
  access: string;
  deviceId: string;
}

/** Reads until `done` holds or ~2 s have passed, and returns the last read: the write is off the response path. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(20);
  }
}

async function login(app: INestApplication, userId: string, ip = LOGIN_IP): Promise<Login> {
  const response = await request(app.getHttpServer())
    .post('/login')
    .set('x-forwarded-for', ip)
    .send({ userId })
    .expect(200);
  return { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
}

const get = (app: INestApplication, path: string, session: Login, ip = SEEN_IP) =>
  request(app.getHttpServer()).get(path).auth(session.access, { type: 'bearer' }).set('x-forwarded-for', ip);

const repository = (app: INestApplication): Repository<Device> => app.get(DataSource).getRepository(Device);
const row = (app: INestApplication, id: string) => repository(app).findOneByOrFail({ id });

describe(`last seen, recorded by DeviceSessionGuard (${TEST_DB})`, () => {
  const apps: INestApplication[] = [];
  const cleanups: (() => void)[] = [];
  /** The time of every app a test starts: instances that share a database share a clock too. */
  let clock: ManualClock;
  /** Whether the device's row says it was seen now, by the clock. */
  const seenNow = (device: Device) => device.lastSeenAt.getTime() === clock.now();

  beforeEach(() => {
    clock = new ManualClock();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const cleanup of cleanups.splice(0)) cleanup();
    vi.restoreAllMocks();
  });

  async function startModule(root: DynamicModule, logger: LoggerService | false = false): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports: [root] })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    const app = createTestApp(moduleRef, { logger, trustProxy: 'loopback' });
    apps.push(app);
    return initTestApp(app);
  }

  const start = (options: DeviceTrackerModuleOptions, logger?: LoggerService) =>
    startModule(HostAppModule.with(DeviceTrackerModule.forRoot(options)), logger);

  it('writes lastSeenAt and the IP once for 50 requests, and again after the interval', async () => {
    const app = await start({ lastSeenInterval: INTERVAL });
    const recordSeen = vi.spyOn(app.get(DeviceStore), 'recordSeen');
    const alice = await login(app, 'alice');
    const atLogin = await row(app, alice.deviceId);
    expect(atLogin.ipAddress).toBe(LOGIN_IP);
    expect(atLogin.lastSeenAt).toEqual(new Date(clock.now()));

    clock.advance(AFTER_INTERVAL);
    const responses = await Promise.all(Array.from({ length: 50 }, () => get(app, '/devices', alice)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));

    const seen = await eventually(() => row(app, alice.deviceId), seenNow);
    expect(recordSeen).toHaveBeenCalledTimes(1);
    const [deviceId, ipAddress, seenAt, notSeenSince] = recordSeen.mock.calls[0]!;
    expect({ deviceId, ipAddress }).toEqual({ deviceId: alice.deviceId, ipAddress: SEEN_IP });
    expect(seenAt).toEqual(new Date(clock.now()));
    expect(seenAt.getTime() - notSeenSince.getTime()).toBe(INTERVAL);
    expect(seen).toMatchObject({ ipAddress: SEEN_IP, lastSeenAt: seenAt, lastLoginAt: atLogin.lastLoginAt });
    // The listing shows it too.
    const listed = await get(app, '/devices', alice).expect(200);
    expect(listed.body[0]).toMatchObject({ id: alice.deviceId, ipAddress: SEEN_IP });
    expect(recordSeen).toHaveBeenCalledTimes(1);

    clock.advance(AFTER_INTERVAL);
    await get(app, '/devices', alice, '203.0.113.99').expect(200);
    const seenAgain = await eventually(() => row(app, alice.deviceId), seenNow);
    expect(recordSeen).toHaveBeenCalledTimes(2);
    expect(seenAgain).toMatchObject({ ipAddress: '203.0.113.99', lastSeenAt: new Date(clock.now()) });
  });

  it('writes once for each device when two devices make requests', async () => {
    const app = await start({ lastSeenInterval: INTERVAL });
    const recordSeen = vi.spyOn(app.get(DeviceStore), 'recordSeen');
    const laptop = await login(app, 'alice');
    const phone = await login(app, 'alice');

    clock.advance(AFTER_INTERVAL);
    await Promise.all(
      Array.from({ length: 10 }, () => [
        get(app, '/devices', laptop, '203.0.113.1').expect(200),
        get(app, '/devices', phone, '203.0.113.2').expect(200),
      ]).flat(),
    );

    const laptopRow = await eventually(() => row(app, laptop.deviceId), seenNow);
    const phoneRow = await eventually(() => row(app, phone.deviceId), seenNow);
    expect(recordSeen).toHaveBeenCalledTimes(2);
    expect(recordSeen.mock.calls.map(([id]) => id).toSorted()).toEqual([laptop.deviceId, phone.deviceId].toSorted());
    expect(laptopRow).toMatchObject({ ipAddress: '203.0.113.1', lastSeenAt: new Date(clock.now()) });
    expect(phoneRow).toMatchObject({ ipAddress: '203.0.113.2', lastSeenAt: new Date(clock.now()) });
  });

  it('writes after the request has been answered, not while its handler is still at work', async () => {
    const app = await start({ lastSeenInterval: INTERVAL });
    const service = app.get(DeviceService);
    const steps: string[] = [];
    const list = service.list.bind(service);
    const store = app.get(DeviceStore);
    const recordSeen = store.recordSeen.bind(store);
    // A handler with slow I/O of its own: its answer is ready only once the test lets it go on.
    let working!: () => void;
    const atWork = new Promise<void>((resolve) => (working = resolve));
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    vi.spyOn(service, 'list').mockImplementation(async (userId) => {
      working();
      await finished;
      steps.push('handler done');
      return list(userId);
    });
    vi.spyOn(store, 'recordSeen').mockImplementation((...args) => {
      steps.push('last seen written');
      return recordSeen(...args);
    });
    const alice = await login(app, 'alice');

    const answered = get(app, '/devices', alice)
      .expect(200)
      .then(() => undefined);
    await atWork;
    // A write the guard left to a later turn of the event loop, rather than to the answer, would have run by now.
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    await answered;
    await vi.waitFor(() => expect(steps).toContain('last seen written'));

    expect(steps).toEqual(['handler done', 'last seen written']);
  });

  it('records nothing with lastSeenInterval: false', async () => {
    const app = await start({ lastSeenInterval: false });
    const recordSeen = vi.spyOn(app.get(DeviceStore), 'recordSeen');
    const recorder = app.get(LastSeenRecorder);
    const record = recorder.record.bind(recorder);
    // A write is handed to `defer` while the guard runs, or never: there is no write that might still land to wait for.
    const handedOver: string[] = [];
    const records = vi.spyOn(recorder, 'record').mockImplementation((deviceId, ipAddress, defer = setImmediate) =>
      record(deviceId, ipAddress, (write) => {
        handedOver.push(deviceId);
        defer(write);
      }),
    );
    const alice = await login(app, 'alice');
    const atLogin = await row(app, alice.deviceId);

    for (let i = 0; i < 20; i++) await get(app, '/devices', alice).expect(200);

    expect(records).toHaveBeenCalledTimes(20);
    expect(handedOver).toEqual([]);
    expect(recordSeen).not.toHaveBeenCalled();
    expect(await row(app, alice.deviceId)).toEqual(atLogin);
  });

  it('never fails a request when the write fails: the error is logged as a warning', async () => {
    const logger = new LogCollector();
    const app = await start({ lastSeenInterval: INTERVAL }, logger);
    const recordSeen = vi
      .spyOn(app.get(DeviceStore), 'recordSeen')
      .mockRejectedValue(new Error('the database went away'));
    const alice = await login(app, 'alice');
    const atLogin = await row(app, alice.deviceId);

    const first = await get(app, '/devices', alice).expect(200);
    expect(first.body).toEqual([expect.objectContaining({ id: alice.deviceId, isCurrent: true })]);
    await expect
      .poll(() => logger.lines.warn, { timeout: 2000 })
      .toContainEqual(
        `[DeviceTracker] Could not record when device ${alice.deviceId} was last seen: the database went away`,
      );
    await get(app, '/devices', alice).expect(200);

    expect(recordSeen).toHaveBeenCalledTimes(1);
    expect(await row(app, alice.deviceId)).toEqual(atLogin);
  });

  it('writes once per interval across instances that share the database', async () => {
    const sqliteFile = join(tmpdir(), `device-tracker-last-seen-${randomUUID()}.sqlite`);
    const database: DataSourceOptions =
      TEST_DB === 'sqlite' ? { type: 'better-sqlite3', database: sqliteFile, dropSchema: true } : testDatabaseOptions();
    if (TEST_DB === 'sqlite') cleanups.push(() => rmSync(sqliteFile, { force: true }));
    const first = await startModule(
      GuardedAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: INTERVAL }), {
        guards: 'global',
        database,
      }),
    );
    // The second instance joins the schema the first one created.
    const second = await startModule(
      GuardedAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: INTERVAL }), {
        guards: 'global',
        database: { ...database, dropSchema: false },
      }),
    );
    const recordOnFirst = vi.spyOn(first.get(DeviceStore), 'recordSeen');
    const recordOnSecond = vi.spyOn(second.get(DeviceStore), 'recordSeen');
    const alice = await login(first, 'alice');

    clock.advance(AFTER_INTERVAL);
    await get(first, '/me', alice, '203.0.113.1').expect(200);
    const seen = await eventually(() => row(first, alice.deviceId), seenNow);
    expect(seen).toMatchObject({ ipAddress: '203.0.113.1', lastSeenAt: new Date(clock.now()) });

    // The second instance has not written for this device yet, so it tries, and the database says no.
    await get(second, '/me', alice, '203.0.113.2').expect(200);
    await vi.waitFor(() => expect(recordOnSecond).toHaveBeenCalledTimes(1));
    await recordOnSecond.mock.results[0]!.value;
    for (let i = 0; i < 10; i++) {
      await get(first, '/me', alice, '203.0.113.1').expect(200);
      await get(second, '/me', alice, '203.0.113.2').expect(200);
    }

    expect(recordOnFirst).toHaveBeenCalledTimes(1);
    expect(recordOnSecond).toHaveBeenCalledTimes(1);
    expect(await row(second, alice.deviceId)).toEqual(seen);
  });
});

const fromDevice = (): DeviceRequest => ({ headers: {}, ip: LOGIN_IP });
const at = (base: Date, offsetMs: number) => new Date(base.getTime() + offsetMs);

describe(`DeviceStore.recordSeen (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterEach(() => app?.close());

  it('updates only an active device not seen since the given instant', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot())],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    const service = app.get(DeviceService);
    const store = app.get(DeviceStore);
    const devices = app.get(DataSource).getRepository(Device);
    const seen = await service.track(fromDevice(), 'alice', 'jti-seen');
    const bystander = await service.track(fromDevice(), 'alice', 'jti-bystander');
    const loggedOut = await service.track(fromDevice(), 'alice', 'jti-logged-out');
    await service.logout('alice', loggedOut.id);
    const before = await devices.findOneByOrFail({ id: seen.id });
    const loginAt = before.lastSeenAt;

    // Seen after the threshold (by another instance, say): left alone.
    await store.recordSeen(seen.id, '203.0.113.1', at(loginAt, 5000), at(loginAt, -1));
    expect(await devices.findOneByOrFail({ id: seen.id })).toEqual(before);

    // Not seen since the threshold: recorded.
    await store.recordSeen(seen.id, '203.0.113.2', at(loginAt, 5000), at(loginAt, 1));
    expect(await devices.findOneByOrFail({ id: seen.id })).toMatchObject({
      lastSeenAt: at(loginAt, 5000),
      ipAddress: '203.0.113.2',
    });

    // A second instance with the same threshold, a moment later: the first one's write stands.
    await store.recordSeen(seen.id, '203.0.113.3', at(loginAt, 5001), at(loginAt, 1));
    expect(await devices.findOneByOrFail({ id: seen.id })).toMatchObject({
      lastSeenAt: at(loginAt, 5000),
      ipAddress: '203.0.113.2',
    });

    // A logged-out device is never marked seen, however old its lastSeenAt.
    const loggedOutBefore = await devices.findOneByOrFail({ id: loggedOut.id });
    await store.recordSeen(loggedOut.id, '203.0.113.4', at(loginAt, 5000), at(loginAt, 60_000));
    expect(await devices.findOneByOrFail({ id: loggedOut.id })).toEqual(loggedOutBefore);

    // Other devices are untouched.
    expect(await devices.findOneByOrFail({ id: bystander.id })).toMatchObject({
      lastSeenAt: bystander.lastSeenAt,
      ipAddress: LOGIN_IP,
    });
  });
});
