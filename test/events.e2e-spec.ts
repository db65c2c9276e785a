import { createHash, randomUUID } from 'node:crypto';
import { Injectable, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import {
  Device,
  type DeviceCreatedEvent,
  type DeviceLoggedOutEvent,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerEvents,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
  type MaxDevicesExceededEvent,
  type RefreshTokenReuseDetectedEvent,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FIXTURE_JWT_SECRET, HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { SNAPSHOT_KEYS } from './support/view-keys.js';
import { LogCollector } from './support/log-collector.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { rendezvous } from './support/rendezvous.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const jwt = new JwtService({ secret: FIXTURE_JWT_SECRET });
const claimsOf = (token: string) => jwt.decode<{ sid: string; jti?: string }>(token);
const digestOf = (jti: string) => createHash('sha256').update(jti).digest('hex');

type EventName = (typeof DeviceTrackerEvents)[keyof typeof DeviceTrackerEvents];

interface Emitted {
  name: EventName;
  payload: unknown;
}

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

/** Listens the way `DeviceTrackerEvents` tells hosts to: `@OnEvent(DeviceTrackerEvents.…)`. */
@Injectable()
class LogoutAuditor {
  readonly loggedOut: DeviceLoggedOutEvent[] = [];

  @OnEvent(DeviceTrackerEvents.DEVICE_LOGGED_OUT)
  onLoggedOut(event: DeviceLoggedOutEvent) {
    this.loggedOut.push(event);
  }
}

describe(`events through @nestjs/event-emitter (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  let devices: Repository<Device>;
  let emitted: Emitted[];
  let clock: ManualClock;
  const http = () => request(app!.getHttpServer());

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    options: DeviceTrackerModuleOptions = {},
    { eventEmitterFirst = true, logger = false as LoggerService | false } = {},
  ): Promise<EventEmitter2> {
    const host = HostAppModule.with(DeviceTrackerModule.forRoot(options));
    const imports: ModuleMetadata['imports'] = eventEmitterFirst
      ? [EventEmitterModule.forRoot(), host]
      : [host, EventEmitterModule.forRoot()];
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({ imports, providers: [LogoutAuditor] })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger });
    devices = app.get(DataSource).getRepository(Device);
    const emitter = app.get(EventEmitter2);
    emitted = [];
    emitter.onAny((name, payload) => {
      if (String(name).startsWith('device-tracker.')) emitted.push({ name: name as EventName, payload });
    });
    return emitter;
  }

  /** A login a millisecond after the last one: each is a moment of its own, so "least recently seen" is clear. */
  async function login(userId: string, headers: Record<string, string> = {}): Promise<Login> {
    clock.advance(1);
    const response = await http()
      .post('/login')
      .set({ 'user-agent': CHROME_MAC, ...headers })
      .send({ userId })
      .expect(200);
    return {
      access: response.body.access_token,
      refresh: response.body.refresh_token,
      deviceId: response.headers['x-device-id'],
    };
  }

  const post = (path: string, session: Login) => http().post(path).auth(session.access, { type: 'bearer' });
  const named = <T>(name: EventName) =>
    emitted.filter((event) => event.name === name).map((event) => event.payload as T);

  const reasons = () =>
    named<DeviceLoggedOutEvent>(DeviceTrackerEvents.DEVICE_LOGGED_OUT).map(({ reason, device }) => ({
      reason,
      id: device.id,
      userId: device.userId,
    }));

  it('emits DEVICE_CREATED for a new device only, not when the same device logs in again', async () => {
    await start();
    const laptop = await login('alice');

    expect(emitted.map((event) => event.name)).toEqual([DeviceTrackerEvents.DEVICE_CREATED]);
    const [created] = named<DeviceCreatedEvent>(DeviceTrackerEvents.DEVICE_CREATED);
    expect(created).toEqual({
      device: expect.objectContaining({
        id: laptop.deviceId,
        userId: 'alice',
        deviceName: 'Chrome 130 on macOS',
        browser: 'Chrome',
        os: 'macOS',
        deviceType: 'desktop',
        ipAddress: '127.0.0.1',
        isActive: true,
        revokedAt: null,
        createdAt: expect.any(Date),
      }),
    });
    expect(Object.keys(created!.device).toSorted()).toEqual(SNAPSHOT_KEYS);

    // The same device again: its old session ends, but it is neither new nor logged out.
    await login('alice', { 'x-device-id': laptop.deviceId });
    expect(emitted).toHaveLength(1);

    await login('alice');
    expect(named<DeviceCreatedEvent>(DeviceTrackerEvents.DEVICE_CREATED).map((event) => event.device.id)).toEqual([
      laptop.deviceId,
      expect.not.stringMatching(laptop.deviceId),
    ]);
  });

  it("emits DEVICE_LOGGED_OUT with the reason 'logout', once, to @OnEvent listeners too", async () => {
    await start();
    const laptop = await login('alice');
    const phone = await login('alice');

    await post(`/devices/${laptop.deviceId}/logout`, phone).expect(200);
    await post(`/devices/${laptop.deviceId}/logout`, phone).expect(200);

    const loggedOut = named<DeviceLoggedOutEvent>(DeviceTrackerEvents.DEVICE_LOGGED_OUT);
    expect(loggedOut).toEqual([
      {
        reason: 'logout',
        device: expect.objectContaining({
          id: laptop.deviceId,
          userId: 'alice',
          isActive: false,
          revokedAt: expect.any(Date),
        }),
      },
    ]);
    expect(app!.get(LogoutAuditor).loggedOut).toEqual(loggedOut);
  });

  it('emits DEVICE_LOGGED_OUT once when two logouts of the same device cross', async () => {
    await start();
    const laptop = await login('alice');
    const service = app!.get(DeviceService);
    // Both logouts have found the device still active when they write, as two concurrent requests can.
    const update = devices.update.bind(devices);
    const together = rendezvous(2);
    vi.spyOn(devices, 'update').mockImplementation(async (criteria, partial) => {
      await together();
      return update(criteria, partial);
    });

    const results = await Promise.all([
      service.logout('alice', laptop.deviceId),
      service.logout('alice', laptop.deviceId),
    ]);

    expect(results.map((device) => device.isActive)).toEqual([false, false]);
    expect(named<DeviceLoggedOutEvent>(DeviceTrackerEvents.DEVICE_LOGGED_OUT)).toEqual([
      { reason: 'logout', device: expect.objectContaining({ id: laptop.deviceId }) },
    ]);
  });

  it("emits DEVICE_LOGGED_OUT with 'logout-others' for each other device, and 'logout-all' for each remaining one", async () => {
    await start();
    const laptop = await login('alice');
    const phone = await login('alice');
    const tablet = await login('alice');
    const bob = await login('bob');

    await post('/devices/logout-others', phone).expect(200, { loggedOut: 2 });
    expect(reasons().toSorted((a, b) => a.id.localeCompare(b.id))).toEqual(
      [laptop, tablet]
        .map(({ deviceId }) => ({ reason: 'logout-others', id: deviceId, userId: 'alice' }))
        .toSorted((a, b) => a.id.localeCompare(b.id)),
    );

    await post('/devices/logout-all', phone).expect(200, { loggedOut: 1 });
    expect(reasons().slice(2)).toEqual([{ reason: 'logout-all', id: phone.deviceId, userId: 'alice' }]);
    // Bob's device was never touched.
    expect(reasons().some((event) => event.id === bob.deviceId)).toBe(false);
  });

  it("emits DEVICE_LOGGED_OUT 'evicted' and MAX_DEVICES_EXCEEDED with the evicted devices (evict-oldest)", async () => {
    await start({ maxDevices: { limit: 1, policy: 'evict-oldest' } });
    const laptop = await login('alice');
    emitted.length = 0;

    const phone = await login('alice');

    expect(emitted.map((event) => event.name)).toEqual([
      DeviceTrackerEvents.DEVICE_CREATED,
      DeviceTrackerEvents.DEVICE_LOGGED_OUT,
      DeviceTrackerEvents.MAX_DEVICES_EXCEEDED,
    ]);
    const [created] = named<DeviceCreatedEvent>(DeviceTrackerEvents.DEVICE_CREATED);
    expect(created!.device.id).toBe(phone.deviceId);
    expect(named<DeviceLoggedOutEvent>(DeviceTrackerEvents.DEVICE_LOGGED_OUT)).toEqual([
      { reason: 'evicted', device: expect.objectContaining({ id: laptop.deviceId, userId: 'alice', isActive: false }) },
    ]);
    const [exceeded] = named<MaxDevicesExceededEvent>(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED);
    expect(exceeded).toEqual({
      userId: 'alice',
      limit: 1,
      policy: 'evict-oldest',
      evicted: [expect.objectContaining({ id: laptop.deviceId, userId: 'alice', deviceName: 'Chrome 130 on macOS' })],
    });
    expect(Object.keys(exceeded!.evicted[0]!).toSorted()).toEqual(SNAPSHOT_KEYS);
  });

  it('emits MAX_DEVICES_EXCEEDED with nothing evicted, and no DEVICE_CREATED, when a login is refused (reject)', async () => {
    await start({ maxDevices: { limit: 1, policy: 'reject' } });
    await login('alice');
    emitted.length = 0;

    await http().post('/login').send({ userId: 'alice' }).expect(403);

    expect(emitted).toEqual([
      {
        name: DeviceTrackerEvents.MAX_DEVICES_EXCEEDED,
        payload: { userId: 'alice', limit: 1, policy: 'reject', evicted: [] },
      },
    ]);
  });

  it('never puts a token, a token id or digest, or a session id in a payload, whatever the event', async () => {
    const emitter = await start({ maxDevices: { limit: 2, policy: 'evict-oldest' }, refreshReuseGrace: 0 });
    // Listeners that keep the payload as it was emitted, before anything else can touch it.
    const serialised: string[] = [];
    emitter.onAny((_name, payload) => serialised.push(JSON.stringify(payload)));
    const laptop = await login('alice');
    const laptopAgain = await login('alice', { 'x-device-id': laptop.deviceId });
    const phone = await login('alice');
    const tablet = await login('alice');
    const service = app!.get(DeviceService);
    const rotated = jwt.sign({ sub: 'alice', sid: claimsOf(tablet.refresh).sid }, { jwtid: randomUUID() });
    await service.rotateRefreshToken(tablet.refresh, rotated);
    // Past the grace period (0 ms), even at millisecond precision.
    clock.advance(5);
    // The replaced token comes back: taken as theft, the tablet is logged out.
    await expect(
      service.rotateRefreshToken(tablet.refresh, jwt.sign({ sub: 'alice' }, { jwtid: randomUUID() })),
    ).rejects.toThrow(/revoked or already used/);
    const ghost = await login('alice');
    await post('/devices/logout-others', ghost).expect(200);
    await post(`/devices/${ghost.deviceId}/logout`, ghost).expect(200);

    const names = new Set(emitted.map((event) => event.name));
    expect(names).toEqual(new Set(Object.values(DeviceTrackerEvents)));
    expect(named<RefreshTokenReuseDetectedEvent>(DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED)[0]).toMatchObject({
      device: { id: tablet.deviceId },
      userAgent: '',
    });
    const secrets = new Set<string>();
    for (const token of [laptop, laptopAgain, phone, tablet, ghost]
      .flatMap((s) => [s.access, s.refresh])
      .concat(rotated)) {
      const { sid, jti } = claimsOf(token);
      secrets.add(token).add(sid);
      if (jti) secrets.add(jti).add(digestOf(jti));
    }
    for (const row of await devices.find()) {
      for (const value of [row.sessionId, row.refreshTokenJti, row.previousRefreshTokenJti]) {
        if (value) secrets.add(value);
      }
    }
    expect(secrets.size).toBeGreaterThan(20);
    expect(serialised).toHaveLength(emitted.length);
    for (const payload of serialised) {
      for (const secret of secrets) expect(payload).not.toContain(secret);
    }
  });

  it('keeps logins and logouts working when a listener throws', async () => {
    const logger = new LogCollector();
    const emitter = await start({ maxDevices: { limit: 1, policy: 'evict-oldest' } }, { logger });
    for (const name of Object.values(DeviceTrackerEvents)) {
      emitter.on(name, () => {
        throw new Error(`listener of ${name} is broken`);
      });
    }

    const laptop = await login('alice');
    expect(laptop.access).toEqual(expect.any(String));
    expect(await devices.findOneBy({ id: laptop.deviceId })).toMatchObject({ isActive: true });
    // The eviction that follows a throwing DEVICE_CREATED listener still happens.
    const phone = await login('alice');
    expect(await devices.findOneByOrFail({ id: laptop.deviceId })).toMatchObject({ isActive: false });
    await http().get('/devices').auth(laptop.access, { type: 'bearer' }).expect(401);

    await post(`/devices/${phone.deviceId}/logout`, phone).expect(200);
    expect(await devices.findOneByOrFail({ id: phone.deviceId })).toMatchObject({ isActive: false });
    expect(emitted.map((event) => event.name)).toEqual([
      DeviceTrackerEvents.DEVICE_CREATED,
      DeviceTrackerEvents.DEVICE_CREATED,
      DeviceTrackerEvents.DEVICE_LOGGED_OUT,
      DeviceTrackerEvents.MAX_DEVICES_EXCEEDED,
      DeviceTrackerEvents.DEVICE_LOGGED_OUT,
    ]);
    expect(logger.lines.warn).toContain(
      `[DeviceTracker] A listener of ${DeviceTrackerEvents.DEVICE_CREATED} failed: listener of ${DeviceTrackerEvents.DEVICE_CREATED} is broken`,
    );
  });

  it('keeps a refused login a 403 when a MAX_DEVICES_EXCEEDED listener throws', async () => {
    const emitter = await start({ maxDevices: { limit: 1, policy: 'reject' } });
    emitter.on(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED, () => {
      throw new Error('broken listener');
    });
    await login('alice');

    const refused = await http().post('/login').send({ userId: 'alice' }).expect(403);
    expect(refused.body.message).toMatch(/Too many devices/);
    expect(await devices.count()).toBe(1);
  });

  it('emits when EventEmitterModule is imported after the tracker', async () => {
    await start({}, { eventEmitterFirst: false });
    const laptop = await login('alice');
    await post(`/devices/${laptop.deviceId}/logout`, laptop).expect(200);

    expect(emitted.map((event) => event.name)).toEqual([
      DeviceTrackerEvents.DEVICE_CREATED,
      DeviceTrackerEvents.DEVICE_LOGGED_OUT,
    ]);
  });
});

describe(`without EventEmitterModule (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterEach(() => app?.close());

  it('tracks, evicts and logs out all the same', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ maxDevices: { limit: 1 } }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    const http = () => request(app!.getHttpServer());

    const laptop = await http().post('/login').send({ userId: 'alice' }).expect(200);
    const phone = await http().post('/login').send({ userId: 'alice' }).expect(200);
    await http().get('/devices').auth(laptop.body.access_token, { type: 'bearer' }).expect(401);
    await http().post('/devices/logout-all').auth(phone.body.access_token, { type: 'bearer' }).expect(200, {
      loggedOut: 1,
    });
    expect(await app.get(DataSource).getRepository(Device).countBy({ isActive: true })).toBe(0);
  });
});
