import type { DynamicModule, INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Device,
  type DeviceCreatedEvent,
  type DeviceRequest,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerEvents,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
  type DeviceView,
  type RefreshTokenReuseDetectedEvent,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';

const IPV4 = '203.0.113.77';
const IPV6 = '2001:db8:abcd:12::5';
/** Far enough on for `lastSeenInterval: 1000` to have passed since the login wrote `lastSeenAt`. */
const AFTER_INTERVAL = 1150;

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
}

// Its own in-memory database: an app that fails half-way cannot be closed, so it must not share the test one.
const compileAlone = (deviceTracker: DynamicModule) =>
  Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true }),
      deviceTracker,
    ],
  }).compile();

/** A request as a refresh route would hand it to the service. */
const fromIp = (ip: string): DeviceRequest => ({ headers: { 'user-agent': 'curl/8.5.0' }, ip });

describe(`storeIpAddress (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  let devices: Repository<Device>;
  let created: DeviceCreatedEvent[];
  let reused: RefreshTokenReuseDetectedEvent[];
  let clock: ManualClock;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /**
   * The fixture host, trusting the proxy (supertest) that sets `X-Forwarded-For`, with events listened to, on a
   * clock of its own.
   */
  async function start(options: DeviceTrackerModuleOptions): Promise<INestApplication> {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), HostAppModule.with(DeviceTrackerModule.forRoot(options))],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false, trustProxy: true });
    devices = app.get(DataSource).getRepository(Device);
    created = [];
    reused = [];
    const emitter = app.get(EventEmitter2);
    emitter.on(DeviceTrackerEvents.DEVICE_CREATED, (event: DeviceCreatedEvent) => created.push(event));
    emitter.on(DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED, (event: RefreshTokenReuseDetectedEvent) =>
      reused.push(event),
    );
    return app;
  }

  async function login(userId: string, ip: string): Promise<Login> {
    const response = await request(app!.getHttpServer())
      .post('/login')
      .set('x-forwarded-for', ip)
      .send({ userId })
      .expect(200);
    expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
    return {
      access: response.body.access_token,
      refresh: response.body.refresh_token,
      deviceId: response.headers['x-device-id'],
    };
  }

  const list = (session: Login, ip: string) =>
    request(app!.getHttpServer()).get('/devices').auth(session.access, { type: 'bearer' }).set('x-forwarded-for', ip);

  const row = (id: string) => devices.findOneByOrFail({ id });

  /** The address the API shows for `session`'s own device. */
  async function listedIp(session: Login, ip: string): Promise<string | null> {
    const listed = (await list(session, ip).expect(200)).body as DeviceView[];
    return listed.find((view) => view.id === session.deviceId)!.ipAddress;
  }

  /** Waits (up to ~2 s) for the last-seen write of a request made now: it lands after the response. */
  async function seenNow(id: string): Promise<Device> {
    await expect
      .poll(async () => (await row(id)).lastSeenAt.getTime(), { timeout: 2000, interval: 20 })
      .toBe(clock.now());
    return row(id);
  }

  /** A device tracked by the service, its refresh token rotated, then the replaced one presented too late. */
  async function refreshAndReplay(service: DeviceService, userId: string, refreshIp: string, replayIp: string) {
    const tracked = await service.track(fromIp(IPV4), userId, `${userId}-jti-1`);
    await service.rotateRefreshToken(`${userId}-jti-1`, `${userId}-jti-2`, fromIp(refreshIp));
    const afterRefresh = await row(tracked.id);
    clock.advance(10);
    await expect(service.rotateRefreshToken(`${userId}-jti-1`, `${userId}-jti-3`, fromIp(replayIp))).rejects.toThrow(
      /revoked or already used/,
    );
    return { afterRefresh, afterReplay: await row(tracked.id) };
  }

  describe("'truncated'", () => {
    it('stores the /24 of an IPv4 login: in the row, the listing and the device.created event', async () => {
      await start({ storeIpAddress: 'truncated' });
      const alice = await login('alice', IPV4);

      expect((await row(alice.deviceId)).ipAddress).toBe('203.0.113.0');
      expect(await listedIp(alice, IPV4)).toBe('203.0.113.0');
      expect(created.map((event) => event.device)).toEqual([
        expect.objectContaining({ id: alice.deviceId, ipAddress: '203.0.113.0' }),
      ]);
      expect(JSON.stringify(await devices.find())).not.toContain(IPV4);
    });

    it('stores the /48 of an IPv6 login, and the /24 of an IPv4-mapped one', async () => {
      await start({ storeIpAddress: 'truncated' });
      const v6 = await login('alice', IPV6);
      const mapped = await login('bob', `::ffff:${IPV4}`);
      const longForm = await login('carol', '2001:0db8:abcd:0012:0000:0000:0000:0005');

      expect((await row(v6.deviceId)).ipAddress).toBe('2001:db8:abcd::');
      expect(await listedIp(v6, IPV6)).toBe('2001:db8:abcd::');
      expect((await row(mapped.deviceId)).ipAddress).toBe('203.0.113.0');
      expect(await listedIp(mapped, IPV4)).toBe('203.0.113.0');
      expect((await row(longForm.deviceId)).ipAddress).toBe('2001:db8:abcd::');
    });

    it('stores the truncated address when a guarded request records last seen', async () => {
      await start({ storeIpAddress: 'truncated', lastSeenInterval: 1000 });
      const laptop = await login('alice', IPV4);
      const phone = await login('alice', IPV6);

      clock.advance(AFTER_INTERVAL);
      await list(laptop, '198.51.100.23').expect(200);
      await list(phone, '2001:db8:1234:5678::9').expect(200);

      expect((await seenNow(laptop.deviceId)).ipAddress).toBe('198.51.100.0');
      expect((await seenNow(phone.deviceId)).ipAddress).toBe('2001:db8:1234::');
      expect(await listedIp(laptop, '198.51.100.23')).toBe('198.51.100.0');
    });

    it('stores the truncated address on a refresh, and reports the truncated one on a replay', async () => {
      await start({ storeIpAddress: 'truncated', refreshReuseGrace: 0 });
      const { afterRefresh, afterReplay } = await refreshAndReplay(
        app!.get(DeviceService),
        'alice',
        '192.0.2.99',
        '2001:db8:beef:7::1',
      );

      expect(afterRefresh.ipAddress).toBe('192.0.2.0');
      expect(afterReplay.isActive).toBe(false);
      expect(reused).toEqual([
        expect.objectContaining({
          ipAddress: '2001:db8:beef::',
          device: expect.objectContaining({ id: afterRefresh.id, ipAddress: '192.0.2.0' }),
        }),
      ]);
    });

    // Node's isIP accepts any zone id made of letters, digits, '-', '.', ':'; ipaddr.js only letters and digits.
    it('tracks a login from a zone-scoped IPv6 address that Node accepts (fe80::1%en-0)', async () => {
      await start({ storeIpAddress: 'truncated' });
      const response = await request(app!.getHttpServer())
        .post('/login')
        .set('x-forwarded-for', 'fe80::1%en-0')
        .send({ userId: 'alice' })
        .expect(200);

      expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
      const stored = (await devices.findOneByOrFail({ userId: 'alice' })).ipAddress;
      expect([null, 'fe80::']).toContain(stored);
    });

    it('answers a guarded request from a zone-scoped IPv6 address (fe80::1%en-0), not a 500', async () => {
      await start({ storeIpAddress: 'truncated', lastSeenInterval: 1000 });
      const alice = await login('alice', IPV4);

      const response = await list(alice, 'fe80::1%en-0');

      expect(response.status).toBe(200);
      expect(response.body).toEqual([expect.objectContaining({ id: alice.deviceId, isCurrent: true })]);
    });
  });

  describe("'none'", () => {
    it('stores no address at login: the row, the listing and the device.created event all say null', async () => {
      await start({ storeIpAddress: 'none' });
      const v4 = await login('alice', IPV4);
      const v6 = await login('bob', IPV6);

      expect((await devices.find()).map((device) => device.ipAddress)).toEqual([null, null]);
      expect(await listedIp(v4, IPV4)).toBeNull();
      expect(await listedIp(v6, IPV6)).toBeNull();
      expect(created.map((event) => event.device.ipAddress)).toEqual([null, null]);
    });

    it('records last seen without an address', async () => {
      await start({ storeIpAddress: 'none', lastSeenInterval: 1000 });
      const alice = await login('alice', IPV4);

      clock.advance(AFTER_INTERVAL);
      await list(alice, '198.51.100.23').expect(200);

      const seen = await seenNow(alice.deviceId);
      expect(seen.ipAddress).toBeNull();
      expect(await listedIp(alice, '198.51.100.23')).toBeNull();
    });

    it('stores no address on a refresh, and reports none on a replay', async () => {
      await start({ storeIpAddress: 'none', refreshReuseGrace: 0 });
      const service = app!.get(DeviceService);
      const { afterRefresh, afterReplay } = await refreshAndReplay(service, 'alice', '192.0.2.99', IPV6);

      expect(afterRefresh.ipAddress).toBeNull();
      expect(afterReplay).toMatchObject({ isActive: false, ipAddress: null });
      expect(reused).toEqual([
        expect.objectContaining({ ipAddress: null, device: expect.objectContaining({ ipAddress: null }) }),
      ]);
    });
  });

  describe("'full' (the default)", () => {
    it('keeps whole IPv4 and IPv6 addresses at login, on last seen and on a refresh', async () => {
      await start({ lastSeenInterval: 1000, refreshReuseGrace: 0 });
      const v4 = await login('alice', IPV4);
      const v6 = await login('bob', IPV6);

      expect((await row(v4.deviceId)).ipAddress).toBe(IPV4);
      expect((await row(v6.deviceId)).ipAddress).toBe(IPV6);
      expect(created.map((event) => event.device.ipAddress)).toEqual([IPV4, IPV6]);

      clock.advance(AFTER_INTERVAL);
      await list(v4, '198.51.100.23').expect(200);
      expect((await seenNow(v4.deviceId)).ipAddress).toBe('198.51.100.23');
      expect(await listedIp(v6, IPV6)).toBe(IPV6);

      const { afterRefresh } = await refreshAndReplay(app!.get(DeviceService), 'carol', '192.0.2.99', IPV6);
      expect(afterRefresh.ipAddress).toBe('192.0.2.99');
      expect(reused).toEqual([expect.objectContaining({ ipAddress: IPV6 })]);
    });

    it("is what 'full' says explicitly", async () => {
      await start({ storeIpAddress: 'full' });
      const alice = await login('alice', IPV6);
      expect((await row(alice.deviceId)).ipAddress).toBe(IPV6);
    });
  });

  it.each(['partial', 'TRUNCATED', ''])('fails the start with storeIpAddress %j, naming the option', async (value) => {
    await expect(
      compileAlone(
        DeviceTrackerModule.forRoot({ storeIpAddress: value as DeviceTrackerModuleOptions['storeIpAddress'] }),
      ),
    ).rejects.toThrow(new RegExp(`storeIpAddress must be one of full, truncated, none \\(got ${value}\\)`));
  });
});
