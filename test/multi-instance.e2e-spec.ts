import type { INestApplication } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import { Device } from 'nestjs-device-tracker';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_DB, testDatabaseOptions } from './support/database.js';
import { startSampleApp } from './support/sample-app.js';
import { eventually } from './support/eventually.js';
import { cutSubscriptions, namedRedisUrl } from './support/redis-subscriptions.js';

const REDIS_URL = process.env.REDIS_URL;
/**
 * A channel of this run's own, so other apps on the same Redis neither disturb nor count as subscribers; and of this
 * worker's own, as its database is: the Express and Fastify runs of this file may run at the same time.
 */
const CHANNEL = `${process.env.REDIS_CHANNEL ?? `device-tracker-test:${process.pid}`}:w${process.env.VITEST_POOL_ID ?? 0}`;

/**
 * Two instances need one database they both reach (a server, not SQLite in memory) and Redis: `.ci/run` sets
 * DB=postgres and REDIS_URL; without them this suite is reported as skipped.
 */
const runnable = Boolean(REDIS_URL) && TEST_DB !== 'sqlite';

/** The name this file's instances give their Redis connections, so a test can cut theirs and no one else's. */
const CONNECTION_NAME = CHANNEL.replaceAll(':', '-');
const INSTANCE_REDIS_URL = REDIS_URL && namedRedisUrl(REDIS_URL, CONNECTION_NAME);

/** Instance B joins the database A created, without dropping it. */
const joinDatabase = () => ({
  database: { ...testDatabaseOptions(), dropSchema: false },
  redisUrl: INSTANCE_REDIS_URL,
  redisChannel: CHANNEL,
});

async function login(app: INestApplication) {
  const response = await request(app.getHttpServer())
    .post('/auth/login')
    .send({ username: 'alice', password: 'alice-password' })
    .expect(200);
  return { access: response.body.access_token as string, deviceId: response.headers['x-device-id'] as string };
}

const me = (app: INestApplication, token: string) =>
  request(app.getHttpServer()).get('/me').auth(token, { type: 'bearer' });

async function logoutOn(app: INestApplication, caller: string, deviceId: string) {
  await request(app.getHttpServer())
    .post(`/api/devices/${deviceId}/logout`)
    .auth(caller, { type: 'bearer' })
    .expect(200);
}

describe.runIf(runnable)(`two instances sharing ${TEST_DB} and Redis`, () => {
  let a: INestApplication;
  let b: INestApplication;
  let late: INestApplication | undefined;
  let admin: Redis;

  /** Subscribers on the channel: one per running instance once all are listening. */
  const subscribers = async () => Number((await admin.pubsub('NUMSUB', CHANNEL))[1]);

  beforeAll(async () => {
    a = await startSampleApp({ redisUrl: INSTANCE_REDIS_URL, redisChannel: CHANNEL });
    b = await startSampleApp(joinDatabase());
    admin = new Redis(REDIS_URL!);
    // Both instances listen once the channel has two subscribers.
    await eventually(async () => (await subscribers()) === 2);
  });

  afterAll(async () => {
    // Closed together: passport keeps strategies in one process-wide registry, so the last app started serves
    // every app's logins in this process, and must outlive them.
    await Promise.all([a?.close(), b?.close(), late?.close()]);
    await admin?.quit();
  });

  it('a logout on A is honoured by B from the announcement, without B asking the database', async () => {
    const laptop = await login(a);
    const phone = await login(a);
    await me(b, laptop.access).expect(200); // B now has the laptop's session cached as active

    const devicesOnB = b.get<Repository<Device>>(getRepositoryToken(Device));
    const lookups = vi.spyOn(devicesOnB, 'findOne');
    try {
      await logoutOn(a, phone.access, laptop.deviceId);
      expect(await eventually(async () => (await me(b, laptop.access)).status === 401)).toBe(true);
      // B's cached answer would have said 200 for sessionCacheTtl (30 s): the announcement is what changed it.
      expect(lookups).not.toHaveBeenCalled();
    } finally {
      lookups.mockRestore();
    }
    await me(b, phone.access).expect(200);
  });

  it('an instance that starts after the logout refuses the token from the database', async () => {
    const laptop = await login(a);
    const phone = await login(a);
    await logoutOn(a, phone.access, laptop.deviceId);

    late = await startSampleApp(joinDatabase());
    await me(late, laptop.access).expect(401);
    await me(late, phone.access).expect(200);
  });

  it('an instance whose Redis subscription dropped still refuses a logged-out device, and recovers', async () => {
    const laptop = await login(a);
    const phone = await login(a);
    await me(b, laptop.access).expect(200);

    // Every subscriber of the file loses its connection; the logout is published while they are reconnecting.
    const listening = await subscribers();
    expect(await cutSubscriptions(admin, CONNECTION_NAME)).toBe(listening);
    await logoutOn(a, phone.access, laptop.deviceId);
    expect(await eventually(async () => (await me(b, laptop.access)).status === 401)).toBe(true);
    await me(b, phone.access).expect(200);

    // Once re-subscribed, announcements flow again.
    expect(await eventually(async () => (await subscribers()) === listening)).toBe(true);
    const tablet = await login(a);
    await me(b, tablet.access).expect(200);
    await logoutOn(a, phone.access, tablet.deviceId);
    expect(await eventually(async () => (await me(b, tablet.access)).status === 401)).toBe(true);
  });

  it('a refresh token rotated on A cannot be replayed on B', async () => {
    const response = await request(a.getHttpServer())
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
    const first = response.body.refresh_token as string;
    await request(b.getHttpServer()).post('/auth/refresh').send({ refresh_token: first }).expect(200);
    // Within the grace period the replaced token is still accepted once more, on any instance; the device lives.
    await request(a.getHttpServer()).post('/auth/refresh').send({ refresh_token: first }).expect(200);
    await me(b, response.body.access_token).expect(200);
  });
});
