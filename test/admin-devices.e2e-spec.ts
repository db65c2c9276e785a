import { type DynamicModule, type INestApplication, ValidationPipe } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import {
  type AdminDevicesPage,
  type AdminDeviceView,
  Device,
  type DeviceLoggedOutEvent,
  DeviceService,
  DeviceTrackerEvents,
  DeviceTrackerModule,
  type DeviceTrackerModuleRootOptions,
  InMemoryRevocationNotifier,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_ROLE, AdminAppModule, AdminRoleGuard } from './fixtures/admin-app.module.js';
import { TEST_DB } from './support/database.js';
import { createTestApp, initTestApp, PLATFORM, type TestAppOptions } from './support/platform.js';
import { LogCollector } from './support/log-collector.js';
import { ADMIN_DEVICE_VIEW_KEYS } from './support/view-keys.js';
import { deviceRow } from './support/device-row.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });
const notFound = { statusCode: 404, error: 'Not Found', message: 'Device not found' };
const USER_ID_MESSAGE = 'userId must be a user id of 1 to 128 characters, none of them control characters';
const ACTIVE_MESSAGE = 'active must be true or false';
const IP_MESSAGE = 'ip must be an IPv4 or IPv6 address';
const SEEN_SINCE_MESSAGE =
  'seenSince must be an ISO 8601 date or date-time with a time zone, e.g. 2026-11-24 or 2026-11-24T20:13:47Z';

interface Login {
  access: string;
  refresh: string;
  deviceId: string;
  sessionId: string;
}

async function startApp(
  deviceTracker: DynamicModule,
  configure: (app: INestApplication) => void = () => undefined,
  { trustProxy = false, logger = false }: Pick<TestAppOptions, 'trustProxy' | 'logger'> = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AdminAppModule.with(deviceTracker)] }).compile();
  const app = createTestApp(moduleRef, { logger, trustProxy });
  configure(app);
  return initTestApp(app);
}

/** The admin endpoints of an app, and a way to sign in to it. */
function clientOf(app: () => INestApplication) {
  const http = () => request(app().getHttpServer());
  return {
    async login(userId: string, roles: string[] = []): Promise<Login> {
      const response = await http().post('/login').send({ userId, roles }).expect(200);
      const access = response.body.access_token as string;
      return {
        access,
        refresh: response.body.refresh_token,
        deviceId: response.headers['x-device-id'],
        sessionId: new JwtService().decode<{ sid: string }>(access).sid,
      };
    },
    get: (path: string, session?: Login) => {
      const call = http().get(path);
      return session ? call.auth(session.access, { type: 'bearer' }) : call;
    },
    post: (path: string, session?: Login) => {
      const call = http().post(path);
      return session ? call.auth(session.access, { type: 'bearer' }) : call;
    },
  };
}

describe(`admin endpoints (${TEST_DB}, ${PLATFORM})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  let service: DeviceService;
  const notifier = new InMemoryRevocationNotifier();
  const announced = vi.spyOn(notifier, 'publish');
  let loggedOut: DeviceLoggedOutEvent[];
  const { login, get, post } = clientOf(() => app);

  beforeAll(async () => {
    // lastSeenInterval: false, so that requests never move the lastSeenAt the listing tests set.
    app = await startApp(
      DeviceTrackerModule.forRoot({
        lastSeenInterval: false,
        revocationNotifier: notifier,
        admin: { guard: AdminRoleGuard },
      }),
    );
    devices = app.get(DataSource).getRepository(Device);
    service = app.get(DeviceService);
    app.get(EventEmitter2).on(DeviceTrackerEvents.DEVICE_LOGGED_OUT, (event: DeviceLoggedOutEvent) => {
      loggedOut.push(event);
    });
  });

  afterAll(() => app?.close());

  beforeEach(() => {
    loggedOut = [];
    announced.mockClear();
  });

  describe('access', () => {
    let root: Login;
    let alice: Login;

    beforeAll(async () => {
      await devices.clear();
      root = await login('root', [ADMIN_ROLE]);
      alice = await login('alice', ['editor']);
    });

    const ROUTES: [string, string][] = [
      ['GET', '/admin/devices'],
      ['GET', `/admin/devices/${UNKNOWN_UUID}`],
      ['POST', `/admin/devices/${UNKNOWN_UUID}/logout`],
      ['POST', '/admin/devices/logout-all?userId=alice'],
    ];
    const call = (method: string, path: string, session?: Login) =>
      method === 'GET' ? get(path, session) : post(path, session);

    it.each(ROUTES)('%s %s answers 401 without a valid access token', async (method, path) => {
      await call(method, path).expect(401);
      await call(method, path).auth('not.a.jwt', { type: 'bearer' }).expect(401);
      const forged = new JwtService().sign({ sub: 'root', sid: root.sessionId, roles: [ADMIN_ROLE] }, { secret: 'x' });
      await call(method, path).auth(forged, { type: 'bearer' }).expect(401);
    });

    it.each(ROUTES)(
      '%s %s answers 403 to a signed-in user who is not an admin, and changes nothing',
      async (method, path) => {
        const response = await call(method, path, alice).expect(403);
        expect(response.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Forbidden resource' });
        expect(await devices.countBy({ isActive: true })).toBe(2);
        await get('/me', alice).expect(200);
      },
    );

    it("asks the host's own AdminRoleGuard provider", async () => {
      const canActivate = vi.spyOn(app.get(AdminRoleGuard), 'canActivate');
      try {
        await get('/admin/devices', root).expect(200);
        await get('/admin/devices', alice).expect(403);
        expect(canActivate).toHaveBeenCalledTimes(2);
      } finally {
        canActivate.mockRestore();
      }
    });

    it('checks the device session before the admin guard: a logged-out non-admin gets 401, not 403', async () => {
      const other = await login('alice');
      await service.logoutById(other.deviceId);
      const response = await get('/admin/devices', other).expect(401);
      expect(response.body.message).toBe('This device has been logged out; sign in again');
    });
  });

  describe('GET /admin/devices', () => {
    let root: Login;
    /** The admin's own device, seen now; the others were seen before, each at its own time. */
    let rows: Record<'a1' | 'a2' | 'a3' | 'b1' | 'b2' | 'b3' | 'spaced' | 'cased', Device>;
    let base: number;
    const at = (ago: number) => new Date(base - ago);

    beforeAll(async () => {
      await devices.clear();
      root = await login('root', [ADMIN_ROLE]);
      base = (await devices.findOneByOrFail({ id: root.deviceId })).lastSeenAt.getTime();
      rows = {
        a1: deviceRow('alice', at(1 * MINUTE), { ipAddress: '203.0.113.7' }),
        b1: deviceRow('bob', at(2 * MINUTE), { ipAddress: '203.0.113.7' }),
        a2: deviceRow('alice', at(3 * MINUTE), { ipAddress: '2001:db8::1', isActive: false, revokedAt: at(MINUTE) }),
        b3: deviceRow('bob', at(4 * MINUTE)),
        spaced: deviceRow('alice ', at(6 * MINUTE), { ipAddress: '203.0.113.7' }),
        cased: deviceRow('Alice', at(7 * MINUTE), { ipAddress: '198.51.100.4' }),
        a3: deviceRow('alice', at(5 * DAY), { ipAddress: '198.51.100.4' }),
        b2: deviceRow('bob', at(10 * DAY), { ipAddress: '203.0.113.7', isActive: false, revokedAt: at(9 * DAY) }),
      };
      await devices.insert(Object.values(rows));
    });

    const page = async (query = '') => (await get(`/admin/devices${query}`, root).expect(200)).body as AdminDevicesPage;
    const ids = async (query = '') => (await page(query)).items.map((view) => view.id);
    const idsOf = (...names: (keyof typeof rows)[]) => names.map((name) => rows[name].id);

    it("lists every user's devices, most recently seen first, with their owners, marking the admin's own", async () => {
      const listed = await page();
      expect(listed).toMatchObject({ total: 9, limit: 50, offset: 0 });
      expect(listed.items.map((view) => view.id)).toEqual([
        root.deviceId,
        ...idsOf('a1', 'b1', 'a2', 'b3', 'spaced', 'cased', 'a3', 'b2'),
      ]);
      expect(listed.items.map((view) => view.userId)).toEqual([
        'root',
        'alice',
        'bob',
        'alice',
        'bob',
        'alice ',
        'Alice',
        'alice',
        'bob',
      ]);
      expect(listed.items.map((view) => view.isCurrent)).toEqual([true, ...Array(8).fill(false)]);
      expect(listed.items[3]).toMatchObject({ ipAddress: '2001:db8::1', isActive: false });
    });

    it('shows what the user endpoints show and the owner, never a token digest or session id', async () => {
      const response = await get('/admin/devices', root).expect(200);
      for (const view of response.body.items as AdminDeviceView[]) {
        expect(Object.keys(view).toSorted()).toEqual(ADMIN_DEVICE_VIEW_KEYS);
      }
      const own = await devices.findOneByOrFail({ id: root.deviceId });
      for (const secret of [
        own.refreshTokenJti!,
        own.sessionId!,
        ...Object.values(rows).map((row) => row.sessionId!),
      ]) {
        expect(response.text).not.toContain(secret);
      }
    });

    it.each<[string, string, (keyof typeof rows)[]]>([
      ['userId', '?userId=alice', ['a1', 'a2', 'a3']],
      ['userId, exactly: trailing spaces count', '?userId=alice%20', ['spaced']],
      ['userId, exactly: case counts', '?userId=Alice', ['cased']],
      ['userId of a user without devices', '?userId=nobody', []],
      ['active=false', '?active=false', ['a2', 'b2']],
      ['ip (IPv4)', '?ip=203.0.113.7', ['a1', 'b1', 'spaced', 'b2']],
      ['ip (IPv4-mapped IPv6, stored as IPv4)', '?ip=::ffff:203.0.113.7', ['a1', 'b1', 'spaced', 'b2']],
      ['ip (IPv6, written another way)', '?ip=2001:DB8:0:0::0001', ['a2']],
      ['ip nobody was seen from', '?ip=192.0.2.1', []],
      ['userId and ip', '?userId=bob&ip=203.0.113.7', ['b1', 'b2']],
      ['userId, ip and active', '?userId=bob&ip=203.0.113.7&active=false', ['b2']],
      ['userId and active', '?userId=alice&active=true', ['a1', 'a3']],
      ['ip and active', '?ip=198.51.100.4&active=true', ['cased', 'a3']],
    ])('filters by %s', async (_label, query, expected) => {
      const listed = await page(query);
      expect(listed.items.map((view) => view.id)).toEqual(idsOf(...expected));
      expect(listed.total).toBe(expected.length);
    });

    it('filters by active=true: the logged-in devices, the admin’s own among them', async () => {
      expect(await ids('?active=true')).toEqual([root.deviceId, ...idsOf('a1', 'b1', 'b3', 'spaced', 'cased', 'a3')]);
    });

    it('filters by seenSince, however the instant is written, and includes a device seen at that very instant', async () => {
      const since = at(3 * MINUTE);
      const expected = [root.deviceId, ...idsOf('a1', 'b1', 'a2')];
      expect(await ids(`?seenSince=${since.toISOString()}`)).toEqual(expected);
      const inIndia = new Date(since.getTime() + 330 * MINUTE).toISOString().replace('Z', '+05:30');
      expect(await ids(`?seenSince=${encodeURIComponent(inIndia)}`)).toEqual(expected);
      expect(await ids(`?seenSince=${new Date(since.getTime() + 1).toISOString()}`)).toEqual(expected.slice(0, 3));
      // A date alone is midnight UTC: two days ago at midnight leaves out only the devices seen 5 and 10 days ago.
      const twoDaysAgo = new Date(base - 2 * DAY).toISOString().slice(0, 10);
      expect(await ids(`?seenSince=${twoDaysAgo}`)).toEqual([
        root.deviceId,
        ...idsOf('a1', 'b1', 'a2', 'b3', 'spaced', 'cased'),
      ]);
      expect(await ids(`?seenSince=${new Date(base + MINUTE).toISOString()}`)).toEqual([]);
      // The ends of the range every database can compare.
      expect(await page('?seenSince=0001-01-01')).toMatchObject({ total: 9 });
      expect(await page(`?seenSince=${encodeURIComponent('9999-12-31T23:59:59.999-23:59')}`)).toMatchObject({
        total: 0,
      });
    });

    it('combines all four filters', async () => {
      const since = encodeURIComponent(at(DAY).toISOString());
      expect(await ids(`?userId=bob&active=true&ip=203.0.113.7&seenSince=${since}`)).toEqual(idsOf('b1'));
      expect(await ids(`?userId=bob&active=false&ip=203.0.113.7&seenSince=${since}`)).toEqual([]);
      expect(await ids(`?userId=alice&active=true&ip=198.51.100.4&seenSince=0001-01-01`)).toEqual(idsOf('a3'));
    });

    it('pages through the list: pages never overlap, together they are the list, and total counts it all', async () => {
      const all = await ids();
      for (const size of [1, 2, 4, 9]) {
        const pages: string[] = [];
        for (let offset = 0; offset <= all.length; offset += size) {
          const listed = await page(`?limit=${size}&offset=${offset}`);
          expect(listed).toMatchObject({ total: 9, limit: size, offset });
          pages.push(...listed.items.map((view) => view.id));
        }
        expect(pages).toEqual(all);
      }
      expect(await page('?offset=100000')).toEqual({ items: [], total: 9, limit: 50, offset: 100000 });
    });

    it('pages a filtered list, with the total of that filter', async () => {
      const ip = '?ip=203.0.113.7';
      expect(await page(`${ip}&limit=3`)).toMatchObject({ total: 4, limit: 3, offset: 0 });
      expect(await ids(`${ip}&limit=3`)).toEqual(idsOf('a1', 'b1', 'spaced'));
      expect(await ids(`${ip}&limit=3&offset=3`)).toEqual(idsOf('b2'));
      expect(await page(`${ip}&offset=4`)).toEqual({ items: [], total: 4, limit: 50, offset: 4 });
    });

    it('orders devices seen at the same instant the same way on every page (by id): none repeated, none lost', async () => {
      const instant = at(30 * DAY);
      const tied = Array.from({ length: 5 }, () => deviceRow('tied', instant));
      await devices.insert(tied);
      try {
        const whole = await ids('?userId=tied');
        const pages: string[] = [];
        for (let offset = 0; offset < 5; offset += 2) {
          pages.push(...(await ids(`?userId=tied&limit=2&offset=${offset}`)));
        }
        // By id as the database sorts it: MariaDB's uuid type does not sort as text does.
        expect(pages).toEqual(whole);
        expect(whole.toSorted()).toEqual(tied.map((row) => row.id).toSorted());
      } finally {
        await devices.delete(tied.map((row) => row.id));
      }
    });

    it('ignores parameters it does not know, as the user endpoint does', async () => {
      expect(await ids('?user=alice&status=inactive&sort=id&ipAddress=1.2.3.4')).toEqual(await ids());
    });

    it.each<[string, string]>([
      ['?userId=', USER_ID_MESSAGE],
      [`?userId=${'x'.repeat(129)}`, USER_ID_MESSAGE],
      ['?userId=alice&userId=bob', USER_ID_MESSAGE],
      ['?active=yes', ACTIVE_MESSAGE],
      ['?active=1', ACTIVE_MESSAGE],
      ['?active=TRUE', ACTIVE_MESSAGE],
      ['?active=', ACTIVE_MESSAGE],
      ['?active=true&active=false', ACTIVE_MESSAGE],
      ['?ip=', IP_MESSAGE],
      ['?ip=localhost', IP_MESSAGE],
      ['?ip=203.0.113.0/24', IP_MESSAGE],
      ['?ip=203.0.113', IP_MESSAGE],
      ['?ip=1.2.3.4&ip=5.6.7.8', IP_MESSAGE],
      ['?seenSince=', SEEN_SINCE_MESSAGE],
      ['?seenSince=yesterday', SEEN_SINCE_MESSAGE],
      ['?seenSince=1764000000000', SEEN_SINCE_MESSAGE],
      ['?seenSince=2026-02-30', SEEN_SINCE_MESSAGE],
      ['?seenSince=2026-11-24T20:13:47', SEEN_SINCE_MESSAGE],
      ['?limit=0', 'limit must be a whole number from 1 to 100'],
      ['?limit=101', 'limit must be a whole number from 1 to 100'],
      ['?offset=-1', 'offset must be a whole number from 0 to 100000'],
      ['?userId=alice&active=maybe', ACTIVE_MESSAGE],
    ])('answers %s with 400 and a message naming the parameter', async (query, message) => {
      const response = await get(`/admin/devices${query}`, root).expect(400);
      expect(response.body).toEqual(badRequest(message));
    });
  });

  describe('GET /admin/devices/:id', () => {
    it("shows any user's device; 404 for one that does not exist, 400 for an id that is not a UUID", async () => {
      await devices.clear();
      const root = await login('root', [ADMIN_ROLE]);
      const bob = await login('bob');

      const shown = await get(`/admin/devices/${bob.deviceId.toUpperCase()}`, root).expect(200);
      expect(shown.body).toMatchObject({ id: bob.deviceId, userId: 'bob', isActive: true, isCurrent: false });
      expect(Object.keys(shown.body).toSorted()).toEqual(ADMIN_DEVICE_VIEW_KEYS);
      const own = await get(`/admin/devices/${root.deviceId}`, root).expect(200);
      expect(own.body).toMatchObject({ userId: 'root', isCurrent: true });

      expect((await get(`/admin/devices/${UNKNOWN_UUID}`, root).expect(404)).body).toEqual(notFound);
      expect((await get('/admin/devices/not-a-uuid', root).expect(400)).body).toEqual(
        badRequest('Device id must be a UUID'),
      );
    });
  });

  describe('logging out', () => {
    let root: Login;
    let laptop: Login;
    let phone: Login;
    let bob: Login;

    beforeEach(async () => {
      await devices.clear();
      root = await login('root', [ADMIN_ROLE]);
      laptop = await login('alice');
      phone = await login('alice');
      bob = await login('bob');
      loggedOut = [];
      announced.mockClear();
    });

    /** Nothing of the device works any more: its access token is refused at once, its refresh token is dead. */
    async function expectLoggedOut(session: Login): Promise<void> {
      const refused = await get('/me', session).expect(401);
      expect(refused.body.message).toBe('This device has been logged out; sign in again');
      expect(await service.isRefreshTokenActive(session.refresh)).toBe(false);
    }

    async function expectStillIn(session: Login): Promise<void> {
      await get('/me', session).expect(200);
      expect(await service.isRefreshTokenActive(session.refresh)).toBe(true);
    }

    it("POST /admin/devices/:id/logout logs out another user's device as its owner would, with reason 'admin'", async () => {
      const response = await post(`/admin/devices/${laptop.deviceId}/logout`, root).expect(200);

      expect(response.body).toMatchObject({ id: laptop.deviceId, userId: 'alice', isActive: false, isCurrent: false });
      expect(Object.keys(response.body).toSorted()).toEqual(ADMIN_DEVICE_VIEW_KEYS);
      expect(new Date(response.body.revokedAt).getTime()).toBeGreaterThan(Date.now() - MINUTE);
      await expectLoggedOut(laptop);
      await expectStillIn(phone);
      await expectStillIn(bob);
      expect(announced).toHaveBeenCalledWith([laptop.sessionId]);
      expect(loggedOut).toEqual([
        { reason: 'admin', device: expect.objectContaining({ id: laptop.deviceId, userId: 'alice', isActive: false }) },
      ]);
      const row = await devices.findOneByOrFail({ id: laptop.deviceId });
      expect(row.revokedAt).toBeInstanceOf(Date);
    });

    it('changes nothing when repeated, and answers the same', async () => {
      const first = await post(`/admin/devices/${laptop.deviceId}/logout`, root).expect(200);
      const again = await post(`/admin/devices/${laptop.deviceId}/logout`, root).expect(200);
      expect(again.body).toEqual(first.body);
      expect(loggedOut).toHaveLength(1);
    });

    it('answers 404 for a device that does not exist and 400 for an id that is not a UUID, logging out nothing', async () => {
      expect((await post(`/admin/devices/${UNKNOWN_UUID}/logout`, root).expect(404)).body).toEqual(notFound);
      expect((await post('/admin/devices/not-a-uuid/logout', root).expect(400)).body).toEqual(
        badRequest('Device id must be a UUID'),
      );
      expect(await devices.countBy({ isActive: true })).toBe(4);
      expect(loggedOut).toEqual([]);
    });

    it("POST /admin/devices/logout-all?userId= logs out every device of that user and no one else's", async () => {
      const response = await post('/admin/devices/logout-all?userId=alice', root).expect(200);

      expect(response.body).toEqual({ loggedOut: 2 });
      await expectLoggedOut(laptop);
      await expectLoggedOut(phone);
      await expectStillIn(bob);
      await get('/admin/devices', root).expect(200);
      expect(loggedOut.map(({ reason, device }) => [reason, device.userId, device.id]).toSorted()).toEqual(
        [
          ['admin', 'alice', laptop.deviceId],
          ['admin', 'alice', phone.deviceId],
        ].toSorted(),
      );
      expect(announced.mock.calls.flat(2).toSorted()).toEqual([laptop.sessionId, phone.sessionId].toSorted());

      expect((await post('/admin/devices/logout-all?userId=alice', root).expect(200)).body).toEqual({ loggedOut: 0 });
      expect((await post('/admin/devices/logout-all?userId=nobody', root).expect(200)).body).toEqual({ loggedOut: 0 });
    });

    it('logout-all needs a userId: without one it is a 400 and logs out nothing', async () => {
      for (const query of ['', '?userId=', '?userId=alice&userId=bob', '?user=alice']) {
        const response = await post(`/admin/devices/logout-all${query}`, root).expect(400);
        expect(response.body).toEqual(
          badRequest(
            query === '' || query === '?user=alice'
              ? `userId is required: a user id of 1 to 128 characters, none of them control characters`
              : USER_ID_MESSAGE,
          ),
        );
      }
      expect(await devices.countBy({ isActive: true })).toBe(4);
    });

    it('an admin whose device is logged out loses admin access at once', async () => {
      const otherAdmin = await login('root', [ADMIN_ROLE]);
      await post(`/admin/devices/${otherAdmin.deviceId}/logout`, root).expect(200);
      const refused = await get('/admin/devices', otherAdmin).expect(401);
      expect(refused.body.message).toBe('This device has been logged out; sign in again');
      await post(`/admin/devices/${laptop.deviceId}/logout`, otherAdmin).expect(401);
      await expectStillIn(laptop);
    });

    it('an admin who logs out their own account is answered, then refused', async () => {
      const response = await post('/admin/devices/logout-all?userId=root', root).expect(200);
      expect(response.body).toEqual({ loggedOut: 1 });
      await get('/admin/devices', root).expect(401);
    });
  });
});

describe(`admin endpoints are off by default (${TEST_DB}, ${PLATFORM})`, () => {
  let app: INestApplication;
  const { login, get, post } = clientOf(() => app);

  beforeAll(async () => {
    app = await startApp(DeviceTrackerModule.forRoot());
  });

  afterAll(() => app?.close());

  it('mounts none of them without the admin option: 404 even for an admin', async () => {
    const root = await login('root', [ADMIN_ROLE]);
    const alice = await login('alice');
    await get('/admin/devices', root).expect(404);
    await get(`/admin/devices/${alice.deviceId}`, root).expect(404);
    await post(`/admin/devices/${alice.deviceId}/logout`, root).expect(404);
    await post('/admin/devices/logout-all?userId=alice', root).expect(404);
    await get('/me', alice).expect(200);
    await get('/devices', root).expect(200);
  });
});

describe(`admin endpoints, configured (${TEST_DB}, ${PLATFORM})`, () => {
  let app: INestApplication | undefined;
  const { login, get, post } = clientOf(() => app!);

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('forRootAsync: at a custom path, behind a guard instance, with the user routes turned off', async () => {
    app = await startApp(
      DeviceTrackerModule.forRootAsync({
        path: false,
        admin: { guard: new AdminRoleGuard(), path: '/ops/devices/' },
        useFactory: () => ({ lastSeenInterval: false }),
      }),
    );
    const root = await login('root', [ADMIN_ROLE]);
    const alice = await login('alice');

    expect((await get('/ops/devices', root).expect(200)).body).toMatchObject({ total: 2 });
    await get('/ops/devices', alice).expect(403);
    await get(`/ops/devices/${alice.deviceId}`, root).expect(200);
    await get('/admin/devices', root).expect(404);
    await get('/devices', root).expect(404);
  });

  it('compares IP addresses as they are stored: with storeIpAddress truncated, any address of the network', async () => {
    app = await startApp(
      DeviceTrackerModule.forRoot({ storeIpAddress: 'truncated', admin: { guard: AdminRoleGuard } }),
    );
    const root = await login('root', [ADMIN_ROLE]);

    const listed = (await get('/admin/devices?ip=127.0.0.99', root).expect(200)).body as AdminDevicesPage;
    expect(listed.items).toEqual([expect.objectContaining({ id: root.deviceId, ipAddress: '127.0.0.0' })]);
    expect((await get('/admin/devices?ip=127.0.1.1', root).expect(200)).body).toMatchObject({ total: 0 });
  });

  it("reads every parameter the same behind the host's global ValidationPipe({ transform: true })", async () => {
    app = await startApp(DeviceTrackerModule.forRoot({ admin: { guard: AdminRoleGuard } }), (nest) =>
      nest.useGlobalPipes(new ValidationPipe({ transform: true })),
    );
    const root = await login('root', [ADMIN_ROLE]);
    await login('alice');

    const query = '?userId=root&active=true&ip=127.0.0.1&seenSince=2026-01-01&limit=1&offset=0';
    expect((await get(`/admin/devices${query}`, root).expect(200)).body).toMatchObject({
      items: [{ id: root.deviceId }],
      total: 1,
      limit: 1,
      offset: 0,
    });
    expect((await get('/admin/devices?limit=1&offset=1', root).expect(200)).body).toMatchObject({ total: 2, limit: 1 });
    expect((await get('/devices?limit=1', root).expect(200)).body).toHaveLength(1);
    for (const [bad, message] of [
      ['?active=yes', ACTIVE_MESSAGE],
      ['?userId=a&userId=b', USER_ID_MESSAGE],
      ['?limit=abc', 'limit must be a whole number from 1 to 100'],
      ['?offset=1.5', 'offset must be a whole number from 0 to 100000'],
    ]) {
      expect((await get(`/admin/devices${bad}`, root).expect(400)).body).toEqual(badRequest(message!));
    }
  });

  it('logs who logged out whose devices, under the DeviceTracker context', async () => {
    const logger = new LogCollector();
    app = await startApp(DeviceTrackerModule.forRoot({ admin: { guard: AdminRoleGuard } }), undefined, { logger });
    const root = await login('root', [ADMIN_ROLE]);
    const alice = await login('alice');
    await login('alice');

    await post(`/admin/devices/${alice.deviceId}/logout`, root).expect(200);
    await post('/admin/devices/logout-all?userId=alice', root).expect(200);
    expect(logger.lines.log).toEqual(
      expect.arrayContaining([
        `[DeviceTracker] Administrator "root" logged out device ${alice.deviceId} of user alice`,
        '[DeviceTracker] Administrator "root" logged out 1 devices of user alice',
      ]),
    );
  });

  it('finds a device by its address however a trusted proxy wrote it', async () => {
    app = await startApp(DeviceTrackerModule.forRoot({ admin: { guard: AdminRoleGuard } }), undefined, {
      trustProxy: 'loopback',
    });
    const root = await login('root', [ADMIN_ROLE]);
    const proxied = await request(app.getHttpServer())
      .post('/login')
      .set('x-forwarded-for', '2001:0DB8:0000::0001')
      .send({ userId: 'alice' })
      .expect(200);
    const deviceId = proxied.headers['x-device-id'];

    const stored = await app.get(DataSource).getRepository(Device).findOneByOrFail({ id: deviceId });
    expect(stored.ipAddress).toBe('2001:db8::1');
    for (const written of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8::0001']) {
      const listed = (await get(`/admin/devices?ip=${encodeURIComponent(written)}`, root).expect(200))
        .body as AdminDevicesPage;
      expect(listed.items.map((device) => device.id)).toEqual([deviceId]);
    }
  });

  it("never acts for an administrator whose session could not be checked (whenSessionCheckFails: 'allow')", async () => {
    app = await startApp(
      DeviceTrackerModule.forRoot({ whenSessionCheckFails: 'allow', admin: { guard: AdminRoleGuard } }),
    );
    const root = await login('root', [ADMIN_ROLE]);
    const alice = await login('alice');
    const devices = app.get(DataSource).getRepository(Device);

    vi.spyOn(devices, 'findOne').mockRejectedValueOnce(new Error('the database went away'));
    const refused = await post(`/admin/devices/${alice.deviceId}/logout`, root).expect(503);
    expect(refused.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Cannot check this device session right now; try again shortly',
    });
    expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: true });
    // Once the database answers again, the session is checked and the administrator is served.
    await post(`/admin/devices/${alice.deviceId}/logout`, root).expect(200);
    expect(await devices.findOneByOrFail({ id: alice.deviceId })).toMatchObject({ isActive: false });
  });

  it('refuses a user id with a control character with 400, on every database', async () => {
    app = await startApp(DeviceTrackerModule.forRoot({ admin: { guard: AdminRoleGuard } }));
    const root = await login('root', [ADMIN_ROLE]);
    for (const path of ['/admin/devices?userId=%00', '/admin/devices?userId=bob%0A']) {
      expect((await get(path, root).expect(400)).body).toEqual(badRequest(USER_ID_MESSAGE));
    }
    expect((await post('/admin/devices/logout-all?userId=%00', root).expect(400)).body).toEqual(
      badRequest(USER_ID_MESSAGE),
    );
  });

  it('refuses to search by IP address when none are stored', async () => {
    app = await startApp(DeviceTrackerModule.forRoot({ storeIpAddress: 'none', admin: { guard: AdminRoleGuard } }));
    const root = await login('root', [ADMIN_ROLE]);

    const refused = await get('/admin/devices?ip=127.0.0.1', root).expect(400);
    expect(refused.body).toEqual(badRequest("Devices cannot be searched by IP address: storeIpAddress is 'none'"));
    await get('/admin/devices', root).expect(200);
  });

  it.each<[string, DeviceTrackerModuleRootOptions, RegExp]>([
    ['without a guard', { admin: {} as never }, /admin\.guard is required/],
    ['with a guard that is not one', { admin: { guard: {} as never } }, /admin\.guard is required/],
    ['with an empty path', { admin: { guard: AdminRoleGuard, path: ' ' } }, /admin\.path must be a non-empty string/],
    ['at the user routes’ path', { admin: { guard: AdminRoleGuard, path: 'devices' } }, /admin\.path must differ/],
    [
      'at a custom user path, written another way',
      { path: 'staff', admin: { guard: AdminRoleGuard, path: '/staff/' } },
      /admin\.path must differ/,
    ],
  ])('refuses admin %s when the module is defined', (_label, options, message) => {
    expect(() => DeviceTrackerModule.forRoot(options)).toThrow(message);
  });
});
