import { randomUUID } from 'node:crypto';
import { BadRequestException, type DynamicModule, type INestApplication } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import {
  Device,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type PruneOptions,
  type PruneScheduleOptions,
  PRUNE_INTERVAL_NAME,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { type FindOperator, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { createTestApp, initTestApp, startTestApp } from './support/platform.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The longest age prune() accepts: a hundred years. */
const MAX_PRUNE_AGE_MS = 100 * 365 * DAY;
const ago = (ms: number) => new Date(Date.now() - ms);

/** What a device looks like in the table: last seen some time ago, and possibly logged out some time ago. */
interface Age {
  seen: number;
  loggedOut?: number;
}

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

// Its own in-memory database: an app that fails half-way cannot be closed, so it must not share the test one.
const compileAlone = (deviceTracker: DynamicModule, imports: DynamicModule[] = []) =>
  Test.createTestingModule({
    imports: [
      ...imports,
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true }),
      deviceTracker,
    ],
  }).compile();

/**
 * Starts `root`, on `clock`'s time when given; `lastSeenInterval: false` keeps requests from moving `lastSeenAt` the
 * tests set by hand.
 */
async function startApp(root: DynamicModule, clock?: ManualClock): Promise<INestApplication> {
  const builder = Test.createTestingModule({ imports: [root] });
  if (clock) builder.overrideProvider(DeviceTrackerClock).useValue(clock);
  return startTestApp(await builder.compile(), { logger: false });
}

async function login(app: INestApplication, userId: string): Promise<Login> {
  const response = await request(app.getHttpServer()).post('/login').send({ userId }).expect(200);
  expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
  return {
    access: response.body.access_token,
    refresh: response.body.refresh_token,
    deviceId: response.headers['x-device-id'],
  };
}

const listDevices = (app: INestApplication, session: Login) =>
  request(app.getHttpServer()).get('/devices').auth(session.access, { type: 'bearer' });

/** Makes the device look `age` old, straight in the table. */
async function age(devices: Repository<Device>, id: string, { seen, loggedOut }: Age): Promise<void> {
  const seenAt = ago(seen);
  await devices.update(
    { id },
    {
      createdAt: seenAt,
      lastLoginAt: seenAt,
      lastSeenAt: seenAt,
      isActive: loggedOut === undefined,
      revokedAt: loggedOut === undefined ? null : ago(loggedOut),
    },
  );
}

describe(`DeviceService.prune (${TEST_DB})`, () => {
  let app: INestApplication;
  let service: DeviceService;
  let devices: Repository<Device>;

  beforeAll(async () => {
    app = await startApp(HostAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: false })));
    service = app.get(DeviceService);
    devices = app.get<Repository<Device>>(getRepositoryToken(Device));
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());
  afterEach(() => vi.restoreAllMocks());

  /** A device of `userId` tracked by the module, then aged in the table. */
  async function device(userId: string, when: Age): Promise<string> {
    const tracked = await service.track({ headers: {}, ip: '192.0.2.1' }, userId, randomUUID());
    await age(devices, tracked.id, when);
    return tracked.id;
  }

  const remainingIds = async () => (await devices.find()).map((row) => row.id).toSorted();

  it('deletes the long-unseen devices (active or not) and the long-logged-out ones of every user, and counts them', async () => {
    const deleted = [
      await device('alice', { seen: 40 * DAY }),
      await device('alice', { seen: 35 * DAY, loggedOut: 35 * DAY }),
      await device('bob', { seen: 31 * DAY, loggedOut: 31 * DAY }),
      await device('carol', { seen: 400 * DAY }),
      await device('42', { seen: 60 * DAY, loggedOut: 45 * DAY }),
    ];
    const kept = [
      await device('alice', { seen: DAY }),
      await device('alice', { seen: 0 }),
      await device('bob', { seen: 5 * DAY, loggedOut: 5 * DAY }),
      await device('bob', { seen: 29 * DAY }),
      await device('carol', { seen: 29 * DAY, loggedOut: 29 * DAY }),
    ];

    const count = await service.prune({ inactiveFor: 30 * DAY });

    expect(count).toBe(deleted.length);
    expect(await remainingIds()).toEqual(kept.toSorted());
    // Nothing left to delete: a second pass deletes nothing.
    expect(await service.prune({ inactiveFor: 30 * DAY })).toBe(0);
    expect(await remainingIds()).toEqual(kept.toSorted());
  });

  it('deletes logged-out devices sooner when loggedOutFor is shorter than inactiveFor', async () => {
    const loggedOutLongAgo = await device('alice', { seen: 2 * DAY, loggedOut: 2 * DAY });
    const loggedOutLately = await device('alice', { seen: 12 * 60 * MINUTE, loggedOut: 12 * 60 * MINUTE });
    const activeSeenLongAgo = await device('alice', { seen: 2 * DAY });
    const unseen = await device('bob', { seen: 31 * DAY });
    const bobLoggedOut = await device('bob', { seen: 3 * DAY, loggedOut: 3 * DAY });
    const bobActive = await device('bob', { seen: 20 * DAY });

    const count = await service.prune({ inactiveFor: 30 * DAY, loggedOutFor: DAY });

    expect(count).toBe(3);
    expect(await remainingIds()).toEqual([loggedOutLately, activeSeenLongAgo, bobActive].toSorted());
    expect(await devices.existsBy({ id: loggedOutLongAgo })).toBe(false);
    expect(await devices.existsBy({ id: unseen })).toBe(false);
    expect(await devices.existsBy({ id: bobLoggedOut })).toBe(false);
  });

  it('still deletes a logged-out device unseen for inactiveFor when loggedOutFor is longer', async () => {
    const unseenLoggedOut = await device('alice', { seen: 3 * DAY, loggedOut: 3 * DAY });
    const active = await device('alice', { seen: 12 * 60 * MINUTE });

    expect(await service.prune({ inactiveFor: DAY, loggedOutFor: 30 * DAY })).toBe(1);
    expect(await remainingIds()).toEqual([active]);
    expect(await devices.existsBy({ id: unseenLoggedOut })).toBe(false);
  });

  it('with loggedOutFor alone short, keeps active devices seen long ago (inactiveFor at its maximum)', async () => {
    const loggedOut = await device('alice', { seen: 2 * DAY, loggedOut: 2 * DAY });
    const activeForAges = await device('alice', { seen: 3000 * DAY });

    expect(await service.prune({ inactiveFor: MAX_PRUNE_AGE_MS, loggedOutFor: DAY })).toBe(1);
    expect(await remainingIds()).toEqual([activeForAges]);
    expect(await devices.existsBy({ id: loggedOut })).toBe(false);
  });

  it('works through several batches: batchSize 2 over 7 prunable devices deletes all 7', async () => {
    const prunable: string[] = [];
    for (let i = 0; i < 7; i++) {
      const loggedOut = i % 2 === 0 ? { loggedOut: (40 + i) * DAY } : {};
      prunable.push(await device(`user-${i % 3}`, { seen: (40 + i) * DAY, ...loggedOut }));
    }
    const kept = [
      await device('user-0', { seen: DAY }),
      await device('user-1', { seen: 2 * DAY, loggedOut: 2 * DAY }),
      await device('user-2', { seen: 0 }),
    ];
    const remove = vi.spyOn(devices, 'delete');

    const count = await service.prune({ inactiveFor: 30 * DAY, batchSize: 2 });

    expect(count).toBe(7);
    expect(await remainingIds()).toEqual(kept.toSorted());
    // Each statement names at most batchSize devices; 7 devices take at least 4 batches.
    const batches = remove.mock.calls.map(([criteria]) => {
      const either = criteria as unknown as { id: FindOperator<string[]> }[];
      expect(either.map(({ id }) => id.value)).toEqual([either[0]!.id.value, either[0]!.id.value]);
      return either[0]!.id.value;
    });
    expect(batches.every((ids) => ids.length >= 1 && ids.length <= 2)).toBe(true);
    expect(new Set(batches.map((ids) => ids.toSorted().join())).size).toBeGreaterThanOrEqual(4);
    expect(new Set(batches.flat()).size).toBe(7);
  });

  it('stops after the last full batch when the prunable devices are an exact multiple of batchSize', async () => {
    for (let i = 0; i < 6; i++) await device('alice', { seen: (40 + i) * DAY });
    const kept = await device('alice', { seen: 0 });

    expect(await service.prune({ inactiveFor: 30 * DAY, batchSize: 3 })).toBe(6);
    expect(await remainingIds()).toEqual([kept]);
  });

  it('deletes nothing and returns 0 when nothing is old enough', async () => {
    const ids = [await device('alice', { seen: DAY }), await device('bob', { seen: DAY, loggedOut: DAY })];
    expect(await service.prune({ inactiveFor: 30 * DAY })).toBe(0);
    expect(await remainingIds()).toEqual(ids.toSorted());
  });

  it('logs a pruned active device out at once: its unexpired access token, cached as active, gets 401', async () => {
    const stale = await login(app, 'alice');
    const fresh = await login(app, 'alice');
    const other = await login(app, 'bob');
    // Just before: the session is known (and cached) as active.
    await listDevices(app, stale).expect(200);
    await listDevices(app, stale).expect(200);
    await age(devices, stale.deviceId, { seen: 60 * DAY });

    expect(await service.prune({ inactiveFor: 30 * DAY })).toBe(1);

    const refused = await listDevices(app, stale).expect(401);
    expect(refused.body).toMatchObject({ statusCode: 401, message: expect.stringMatching(/logged out/) });
    expect(await service.isRefreshTokenActive(stale.refresh)).toBe(false);
    expect(await devices.existsBy({ id: stale.deviceId })).toBe(false);
    // The user's other device and other users are unaffected.
    const listed = await listDevices(app, fresh).expect(200);
    expect(listed.body.map((view: { id: string }) => view.id)).toEqual([fresh.deviceId]);
    await listDevices(app, other).expect(200);
    expect(await service.isRefreshTokenActive(fresh.refresh)).toBe(true);
  });

  it('a pruned device that signs in again is tracked again, as a new device', async () => {
    const old = await login(app, 'alice');
    await age(devices, old.deviceId, { seen: 60 * DAY });
    expect(await service.prune({ inactiveFor: 30 * DAY })).toBe(1);

    const again = await request(app.getHttpServer())
      .post('/login')
      .set('x-device-id', old.deviceId)
      .send({ userId: 'alice' })
      .expect(200);
    const listed = await listDevices(app, { access: again.body.access_token, refresh: '', deviceId: '' }).expect(200);
    expect(listed.body).toEqual([expect.objectContaining({ id: again.headers['x-device-id'], isCurrent: true })]);
  });

  describe('refuses bad arguments with a 400 naming the argument, deleting nothing', () => {
    const cases: [string, PruneOptions, string][] = [];
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_PRUNE_AGE_MS + 1]) {
      cases.push(
        [`inactiveFor ${bad}`, { inactiveFor: bad }, 'inactiveFor'],
        [`loggedOutFor ${bad}`, { inactiveFor: 30 * DAY, loggedOutFor: bad }, 'loggedOutFor'],
        [`batchSize ${bad}`, { inactiveFor: 30 * DAY, batchSize: bad }, 'batchSize'],
      );
    }
    cases.push(['no inactiveFor', {} as PruneOptions, 'inactiveFor']);

    it.each(cases)('%s', async (_label, options, name) => {
      const ids = [
        await device('alice', { seen: 60 * DAY }),
        await device('bob', { seen: 60 * DAY, loggedOut: 60 * DAY }),
        await device('bob', { seen: 0 }),
      ];

      const error = await service.prune(options).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );

      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as Error).message).toMatch(new RegExp(`\\b${name}\\b`));
      expect(await remainingIds()).toEqual(ids.toSorted());
    });
  });
});

/** The fixture host with `ScheduleModule.forRoot()` imported, as the prune option asks. */
const startScheduled = (prune?: PruneScheduleOptions, clock?: ManualClock) =>
  startApp(
    {
      module: class ScheduledHostModule {},
      imports: [
        ScheduleModule.forRoot(),
        HostAppModule.with(DeviceTrackerModule.forRoot({ prune, lastSeenInterval: false })),
      ],
    },
    clock,
  );

describe(`the prune schedule, through @nestjs/schedule (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.restoreAllMocks();
  });

  it('registers its interval and deletes an old device on its own; stops with the app', async () => {
    // The interval runs on the clock: the test moves it past `every` rather than waiting for it.
    const clock = new ManualClock();
    app = await startScheduled({ inactiveFor: 60_000, every: 1000 }, clock);
    const registry = app.get(SchedulerRegistry);
    const devices = app.get<Repository<Device>>(getRepositoryToken(Device));
    expect(registry.getIntervals()).toContain(PRUNE_INTERVAL_NAME);

    const old = await login(app, 'alice');
    const recent = await login(app, 'alice');
    const otherUser = await login(app, 'bob');
    await listDevices(app, old).expect(200);
    await age(devices, old.deviceId, { seen: 2 * MINUTE });

    clock.advance(1000);
    await expect.poll(() => devices.existsBy({ id: old.deviceId }), { timeout: 3000, interval: 50 }).toBe(false);

    expect(await devices.existsBy({ id: recent.deviceId })).toBe(true);
    expect(await devices.existsBy({ id: otherUser.deviceId })).toBe(true);
    await listDevices(app, old).expect(401);
    await listDevices(app, recent).expect(200);

    await app.close();
    app = undefined;
    expect(registry.getIntervals()).not.toContain(PRUNE_INTERVAL_NAME);
  });

  it('registers nothing without the prune option', async () => {
    app = await startScheduled();
    expect(app.get(SchedulerRegistry).getIntervals()).not.toContain(PRUNE_INTERVAL_NAME);
  });

  it('fails the start without ScheduleModule.forRoot(), saying what it needs', async () => {
    const moduleRef = await compileAlone(DeviceTrackerModule.forRoot({ prune: { inactiveFor: 60_000, every: 1000 } }));
    const failing = createTestApp(moduleRef, { logger: false });

    const starting = initTestApp(failing);

    await expect(starting).rejects.toThrow(/@nestjs\/schedule/);
    await expect(starting).rejects.toThrow(/ScheduleModule\.forRoot\(\)/);
    await failing.close().catch(() => undefined);
  });

  it.each<[string, PruneScheduleOptions, RegExp]>([
    ['inactiveFor: 0', { inactiveFor: 0 }, /prune\.inactiveFor must be a whole number >= 1 \(got 0\)/],
    ['inactiveFor: 1.5', { inactiveFor: 1.5 }, /prune\.inactiveFor must be a whole number >= 1 \(got 1\.5\)/],
    ['no inactiveFor', {} as PruneScheduleOptions, /prune\.inactiveFor must be a whole number >= 1/],
    ['every: 10', { inactiveFor: 60_000, every: 10 }, /prune\.every must be a whole number >= 1000 \(got 10\)/],
    ['loggedOutFor: 0', { inactiveFor: 60_000, loggedOutFor: 0 }, /prune\.loggedOutFor must be a whole number >= 1/],
    [
      'batchSize: -5',
      { inactiveFor: 60_000, batchSize: -5 },
      /prune\.batchSize must be a whole number >= 1 \(got -5\)/,
    ],
  ])('fails the start with %s, naming the option', async (_label, prune, message) => {
    await expect(
      compileAlone(DeviceTrackerModule.forRoot({ prune }), [ScheduleModule.forRoot() as DynamicModule]),
    ).rejects.toThrow(message);
  });
});
