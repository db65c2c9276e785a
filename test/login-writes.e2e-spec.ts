import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Device, DeviceTrackerClock, DeviceTrackerModule } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type QueryRunner, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceStore } from '../lib/persistence/device.store.js';
import { StatementRunner } from '../lib/persistence/statement-runner.js';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { sidOf, storedIdOf } from './support/token-claims.js';

/*
 * What a login costs the database: a new device is one INSERT and nothing else, a known device one UPDATE after the
 * reads that find it, and logins at the same moment share their INSERT. The rows read back as TypeORM wrote them
 * before the statements were written by hand. Both ways to the database are recorded: TypeORM's query runners (the
 * reads) and the driver's own connection, which the login's statements take (StatementRunner).
 */
describe(`a login's writes (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const clock = new ManualClock(new Date('2026-06-01T12:34:56.789Z'));
  /** The SQL the app sent while `statements` was recording, with its parameters. */
  let sent: string[] = [];
  /** When set, the next INSERT waits for it first. */
  let holdInsert: (() => Promise<void>) | undefined;
  /** Records `sql`, and holds it first when it is the INSERT a test waits on. */
  const sending = async (sql: string) => {
    sent.push(sql);
    const hold = holdInsert;
    if (hold && /^INSERT\b/.test(sql)) {
      holdInsert = undefined;
      await hold();
    }
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot())],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
    const dataSource = app.get(DataSource);
    devices = dataSource.getRepository(Device);
    const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
    // SQLite hands out one runner again and again: each is wrapped once.
    const recording = new WeakSet<QueryRunner>();
    vi.spyOn(dataSource, 'createQueryRunner').mockImplementation((...args) => {
      const runner: QueryRunner = createQueryRunner(...args);
      if (recording.has(runner)) return runner;
      recording.add(runner);
      const query = runner.query.bind(runner);
      runner.query = (async (sql: string, ...rest: unknown[]) => {
        await sending(sql);
        return (query as (...all: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as QueryRunner['query'];
      return runner;
    });
    const statements = app.get(StatementRunner);
    const run = statements.run.bind(statements);
    vi.spyOn(statements, 'run').mockImplementation(async (statement) => {
      await sending(statement.sql);
      return run(statement);
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await app?.close();
  });
  afterEach(() => {
    sent = [];
  });

  const login = (userId: string, deviceId?: string) =>
    request(app.getHttpServer())
      .post('/login')
      .set({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0' })
      .set(deviceId ? { 'x-device-id': deviceId } : {})
      .send({ userId })
      .expect(200);
  const onDevices = () => sent.filter((sql) => sql.includes('device_tracker_devices'));

  it('writes a new device in one INSERT, and reads nothing', async () => {
    const answer = await login('alice');
    expect(onDevices()).toHaveLength(1);
    expect(onDevices()[0]).toMatch(/^INSERT INTO\b/);

    const row = await devices.findOneByOrFail({ id: answer.headers['x-device-id'] });
    expect(row).toMatchObject({
      userId: 'alice',
      deviceName: 'Firefox 132 on Linux',
      browser: 'Firefox',
      os: 'Linux',
      deviceType: 'desktop',
      sessionId: sidOf(answer.body.access_token),
      isActive: true,
      revokedAt: null,
      previousRefreshTokenJti: null,
      refreshTokenRotatedAt: null,
    });
    for (const column of ['createdAt', 'lastLoginAt', 'lastSeenAt'] as const) {
      expect(row[column]).toEqual(new Date('2026-06-01T12:34:56.789Z'));
    }
    expect(row.refreshTokenJti).toBe(storedIdOf(answer.body.refresh_token));
  });

  it('writes a known device in one UPDATE, after the reads that find it', async () => {
    const first = await login('bob');
    const deviceId = first.headers['x-device-id'];
    clock.advance(60_000);
    sent = [];
    const again = await login('bob', deviceId);

    expect(again.headers['x-device-id']).toBe(deviceId);
    const writes = onDevices().filter((sql) => !/^SELECT\b/.test(sql));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^UPDATE\b/);
    const row = await devices.findOneByOrFail({ id: deviceId });
    expect(row.sessionId).toBe(sidOf(again.body.access_token));
    expect(row.lastLoginAt).toEqual(new Date(clock.now()));
    expect(row.createdAt).toEqual(new Date(clock.now() - 60_000));
  });

  it('lets the logins that arrive while a write is under way share the next INSERT, each with its own row', async () => {
    const store = app.get(DeviceStore);
    const added = vi.spyOn(store, 'insert');
    // The first login's INSERT is held until all 20 logins have handed their device over.
    holdInsert = async () => {
      while (added.mock.calls.length < 20) await new Promise((resolve) => setImmediate(resolve));
    };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => login(`carol-${index % 4}`)));
    added.mockRestore();

    expect(onDevices().filter((sql) => /^INSERT INTO\b/.test(sql))).toHaveLength(2);
    const rows = await devices.findBy(answers.map((answer) => ({ id: answer.headers['x-device-id'] })));
    expect(rows).toHaveLength(20);
    for (const answer of answers) {
      const row = rows.find((candidate) => candidate.id === answer.headers['x-device-id'])!;
      expect(row).toMatchObject({ sessionId: sidOf(answer.body.access_token), isActive: true });
    }
  });
});
