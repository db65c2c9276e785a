import type { DynamicModule, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Device,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceView,
  MaxDevicesExceededException,
  type MaxDevicesOptions,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { rendezvous } from './support/rendezvous.js';
import { DeviceStore } from '../lib/persistence/device.store.js';

const TOO_MANY = {
  statusCode: 403,
  error: 'Forbidden',
  message:
    'Too many devices: this account may be signed in on at most 2 at once. Log out one of them, then sign in again.',
};

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

const ids = (...sessions: Login[]) => sessions.map((session) => session.deviceId).toSorted();
const fromNewDevice = () => ({ headers: {}, ip: '192.0.2.1' });
// Its own in-memory database: an app that fails half-way cannot be closed, so it must not share the test one.
const compile = (deviceTracker: DynamicModule) =>
  Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true }),
      deviceTracker,
    ],
  }).compile();

describe(`maxDevices (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  let devices: Repository<Device>;
  let clock: ManualClock;
  const http = () => request(app!.getHttpServer());

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(maxDevices: MaxDevicesOptions): Promise<void> {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ maxDevices }))],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
    devices = app.get(DataSource).getRepository(Device);
  }

  /** A login; without a device id every login is a new device. Apart in time, so "least recently seen" is clear. */
  async function login(userId: string, headers: Record<string, string> = {}): Promise<Login> {
    clock.advance(5);
    const response = await http().post('/login').set(headers).send({ userId }).expect(200);
    expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
    return {
      access: response.body.access_token,
      refresh: response.body.refresh_token,
      deviceId: response.headers['x-device-id'],
    };
  }

  const reLogin = (userId: string, device: Login) => login(userId, { 'x-device-id': device.deviceId });
  const list = (session: Login) => http().get('/devices').auth(session.access, { type: 'bearer' });

  async function activeIds(userId: string): Promise<string[]> {
    const rows = await devices.find({ where: { userId, isActive: true } });
    return rows.map((row) => row.id).toSorted();
  }

  describe("policy 'evict-oldest'", () => {
    it('logs out the least recently seen device to make room for a new one', async () => {
      await start({ limit: 2, policy: 'evict-oldest' });
      const first = await login('alice');
      const second = await login('alice');
      const third = await login('alice');

      expect(await activeIds('alice')).toEqual(ids(second, third));
      const evicted = await devices.findOneByOrFail({ id: first.deviceId });
      // Evicted by the third login, at its instant.
      expect(evicted).toMatchObject({ isActive: false, revokedAt: new Date(clock.now()) });
      const refused = await list(first).expect(401);
      expect(refused.body.message).toMatch(/logged out/);
      expect(await app!.get(DeviceService).isRefreshTokenActive(first.refresh)).toBe(false);

      const listed = (await list(third).expect(200)).body as DeviceView[];
      expect(listed).toHaveLength(3);
      expect(listed.filter((device) => device.isActive).map((device) => device.id)).toEqual([
        third.deviceId,
        second.deviceId,
      ]);
      await list(second).expect(200);
    });

    it('evicts nobody when a device that is already active logs in again, and goes by last seen, not by age', async () => {
      await start({ limit: 2, policy: 'evict-oldest' });
      const laptop = await login('alice');
      const phone = await login('alice');

      const laptopAgain = await reLogin('alice', laptop);
      expect(laptopAgain.deviceId).toBe(laptop.deviceId);
      expect(await activeIds('alice')).toEqual(ids(laptop, phone));
      await list(phone).expect(200);
      await list(laptopAgain).expect(200);

      // The laptop is the older device but was seen more recently: the phone makes room.
      const tablet = await login('alice');
      expect(await activeIds('alice')).toEqual(ids(laptop, tablet));
      await list(phone).expect(401);
      await list(laptopAgain).expect(200);
    });

    it('lets an evicted device back in, evicting the next least recently seen one', async () => {
      await start({ limit: 2, policy: 'evict-oldest' });
      const first = await login('alice');
      const second = await login('alice');
      const third = await login('alice');

      const back = await reLogin('alice', first);
      expect(back.deviceId).toBe(first.deviceId);
      expect(await activeIds('alice')).toEqual(ids(first, third));
      await list(second).expect(401);
      await list(back).expect(200);
      expect(await devices.count()).toBe(3);
    });

    it("counts each user's devices separately", async () => {
      await start({ limit: 2, policy: 'evict-oldest' });
      const alice1 = await login('alice');
      const alice2 = await login('alice');
      const bob1 = await login('bob');
      const bob2 = await login('bob');

      expect(await activeIds('alice')).toEqual(ids(alice1, alice2));
      expect(await activeIds('bob')).toEqual(ids(bob1, bob2));
    });

    it("is the default policy, and a limit of 1 keeps only the latest login's device", async () => {
      await start({ limit: 1 });
      const first = await login('alice');
      const second = await login('alice');

      expect(await activeIds('alice')).toEqual(ids(second));
      await list(first).expect(401);
      await list(second).expect(200);
    });
  });

  describe("policy 'reject'", () => {
    it('refuses a new device at the limit with 403, creating no device and issuing no tokens', async () => {
      await start({ limit: 2, policy: 'reject' });
      const laptop = await login('alice');
      const phone = await login('alice');

      const refused = await http().post('/login').send({ userId: 'alice' }).expect(403);

      expect(refused.body).toEqual(TOO_MANY);
      expect(refused.text).not.toMatch(/access_token|refresh_token/);
      expect(refused.headers['x-device-id']).toBeUndefined();
      expect(refused.headers['set-cookie']).toBeUndefined();
      expect(await devices.count()).toBe(2);
      expect(await activeIds('alice')).toEqual(ids(laptop, phone));
      await list(laptop).expect(200);
      await list(phone).expect(200);
    });

    it('lets an active device log in again at the limit', async () => {
      await start({ limit: 2, policy: 'reject' });
      const laptop = await login('alice');
      const phone = await login('alice');

      const again = await reLogin('alice', laptop);

      expect(again.deviceId).toBe(laptop.deviceId);
      expect(await devices.count()).toBe(2);
      expect(await activeIds('alice')).toEqual(ids(laptop, phone));
      await list(again).expect(200);
    });

    it('lets a new device in once one has been logged out, but not the logged-out one when that fills the limit', async () => {
      await start({ limit: 2, policy: 'reject' });
      const laptop = await login('alice');
      const phone = await login('alice');
      await http().post(`/devices/${phone.deviceId}/logout`).auth(laptop.access, { type: 'bearer' }).expect(200);

      const tablet = await login('alice');
      expect(await activeIds('alice')).toEqual(ids(laptop, tablet));

      // A logged-out device logging in again is one more active device.
      const phoneAgain = await http()
        .post('/login')
        .set('x-device-id', phone.deviceId)
        .send({ userId: 'alice' })
        .expect(403);
      expect(phoneAgain.body).toEqual(TOO_MANY);
      expect(await activeIds('alice')).toEqual(ids(laptop, tablet));
    });

    it("is not fooled by presenting another user's device id", async () => {
      await start({ limit: 2, policy: 'reject' });
      const bob = await login('bob');
      await login('alice');
      await login('alice');

      const refused = await http().post('/login').set('x-device-id', bob.deviceId).send({ userId: 'alice' });

      expect(refused.status).toBe(403);
      expect(await devices.countBy({ userId: 'alice' })).toBe(2);
      expect(await devices.findOneByOrFail({ id: bob.deviceId })).toMatchObject({ userId: 'bob', isActive: true });
    });

    it('holds the limit when two new devices log in at the same moment', async () => {
      await start({ limit: 2, policy: 'reject' });
      const service = app!.get(DeviceService);
      await service.track(fromNewDevice(), 'alice', 'jti-first');
      // The two logins reach the point of writing their device together, as concurrent requests can.
      const store = app!.get(DeviceStore);
      const insert = store.insert.bind(store);
      const together = rendezvous(2);
      vi.spyOn(store, 'insert').mockImplementation(async (entity) => {
        await together();
        return insert(entity);
      });

      // Each is checked before its handler runs (as @TrackDevice() does) and recorded after it.
      const sessions = await Promise.all([
        service.prepareLogin(fromNewDevice(), 'alice'),
        service.prepareLogin(fromNewDevice(), 'alice'),
      ]);
      const results = await Promise.allSettled([
        service.track(fromNewDevice(), 'alice', 'jti-second', sessions[0]),
        service.track(fromNewDevice(), 'alice', 'jti-third', sessions[1]),
      ]);

      const active = await activeIds('alice');
      const admitted = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.id] : []));
      const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      expect(active.length).toBeLessThanOrEqual(2);
      expect(admitted.length).toBeLessThanOrEqual(1);
      expect(active).toEqual(expect.arrayContaining(admitted));
      expect(refused).toEqual(refused.map(() => expect.any(MaxDevicesExceededException)));
    });
  });

  describe('invalid options', () => {
    it.each<[string, unknown, RegExp]>([
      ['a limit of 0', { limit: 0 }, /maxDevices\.limit must be a whole number >= 1 \(got 0\)/],
      [
        'a fractional limit',
        { limit: 1.5, policy: 'reject' },
        /maxDevices\.limit must be a whole number >= 1 \(got 1\.5\)/,
      ],
      ['a negative limit', { limit: -3 }, /maxDevices\.limit must be a whole number >= 1 \(got -3\)/],
      ['no limit', { policy: 'reject' }, /maxDevices\.limit must be a whole number >= 1/],
      [
        'an unknown policy',
        { limit: 2, policy: 'nope' },
        /maxDevices\.policy must be one of evict-oldest, reject \(got nope\)/,
      ],
    ])('fail the start with %s, naming the option', async (_label, maxDevices, message) => {
      await expect(
        compile(DeviceTrackerModule.forRoot({ maxDevices: maxDevices as MaxDevicesOptions })),
      ).rejects.toThrow(message);
    });
  });
});
