import { BadRequestException, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Device, DeviceService, DeviceTrackerModule, type DeviceView } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { startSampleApp } from './support/sample-app.js';
import { deviceRow } from './support/device-row.js';

const MINUTE = 60_000;

interface Login {
  access: string;
  deviceId: string;
}

const idsOf = (views: DeviceView[]) => views.map((view) => view.id);
const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });
const LIMIT_MESSAGE = 'limit must be a whole number from 1 to 100';
const OFFSET_MESSAGE = 'offset must be a whole number from 0 to 100000';

describe(`GET /devices, paginated (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const http = () => request(app.getHttpServer());
  /** Alice's 7 devices, most recently seen first. */
  let aliceOrder: string[];
  /** Alice's sessions: the one whose device is 4th most recently seen, and the one whose device is last. */
  let aliceMiddle: Login;
  let aliceLast: Login;
  let bob: Login;
  let bobOrder: string[];

  async function login(userId: string): Promise<Login> {
    const response = await http().post('/login').send({ userId }).expect(200);
    expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
    return { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
  }

  const page = (session: Login, query = '') => http().get(`/devices${query}`).auth(session.access, { type: 'bearer' });

  async function pageIds(session: Login, query = ''): Promise<string[]> {
    return idsOf((await page(session, query).expect(200)).body);
  }

  beforeAll(async () => {
    // lastSeenInterval: false, so listing never moves the lastSeenAt the tests set.
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: false }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    devices = app.get(DataSource).getRepository(Device);

    const alice: Login[] = [];
    for (let i = 0; i < 7; i++) alice.push(await login('alice'));
    const bobs = [await login('bob'), await login('bob')];
    // Seen in an order unlike the order of the logins, with Bob's devices in between Alice's.
    const base = Date.now();
    const aliceRanks = [3, 0, 6, 1, 5, 2, 4];
    for (const [i, session] of alice.entries()) {
      await devices.update({ id: session.deviceId }, { lastSeenAt: new Date(base - (aliceRanks[i]! + 1) * MINUTE) });
    }
    await devices.update({ id: bobs[0]!.deviceId }, { lastSeenAt: new Date(base - 2.5 * MINUTE) });
    await devices.update({ id: bobs[1]!.deviceId }, { lastSeenAt: new Date(base - 10 * MINUTE) });
    aliceOrder = aliceRanks.map((_, rank) => alice[aliceRanks.indexOf(rank)]!.deviceId);
    aliceMiddle = alice[aliceRanks.indexOf(3)]!;
    aliceLast = alice[aliceRanks.indexOf(6)]!;
    bob = bobs[1]!;
    bobOrder = bobs.map((session) => session.deviceId);
  });

  afterAll(() => app?.close());

  it('lists all 7 devices, most recently seen first, without parameters', async () => {
    const listed = (await page(aliceMiddle).expect(200)).body as DeviceView[];
    expect(idsOf(listed)).toEqual(aliceOrder);
    const seen = listed.map((view) => new Date(view.lastSeenAt).getTime());
    expect(seen).toEqual(seen.toSorted((a, b) => b - a));
  });

  it('gives the 3 most recently seen with limit=3, then the next 3, then the last one, then none', async () => {
    expect(await pageIds(aliceMiddle, '?limit=3')).toEqual(aliceOrder.slice(0, 3));
    expect(await pageIds(aliceMiddle, '?limit=3&offset=3')).toEqual(aliceOrder.slice(3, 6));
    expect(await pageIds(aliceMiddle, '?limit=3&offset=6')).toEqual(aliceOrder.slice(6));
    expect(await pageIds(aliceMiddle, '?limit=3&offset=7')).toEqual([]);
    expect(await pageIds(aliceMiddle, '?offset=6')).toEqual(aliceOrder.slice(6));
    expect(await pageIds(aliceMiddle, '?offset=7')).toEqual([]);
    expect(await pageIds(aliceMiddle, '?offset=100000')).toEqual([]);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 100])(
    'pages of %i never overlap and together are the full list, in order',
    async (size) => {
      const pages: string[][] = [];
      for (let offset = 0; offset < 8; offset += size) {
        const ids = await pageIds(aliceMiddle, `?limit=${size}&offset=${offset}`);
        expect(ids.length).toBeLessThanOrEqual(size);
        pages.push(ids);
      }
      expect(pages.flat()).toEqual(aliceOrder);
      expect(new Set(pages.flat()).size).toBe(7);
    },
  );

  it('marks the current device on the page it is on, and no device on the others', async () => {
    const first = (await page(aliceMiddle, '?limit=3').expect(200)).body as DeviceView[];
    const second = (await page(aliceMiddle, '?limit=3&offset=3').expect(200)).body as DeviceView[];
    const third = (await page(aliceMiddle, '?limit=3&offset=6').expect(200)).body as DeviceView[];

    expect(first.filter((view) => view.isCurrent)).toEqual([]);
    expect(second.map((view) => view.isCurrent)).toEqual([true, false, false]);
    expect(second[0]!.id).toBe(aliceMiddle.deviceId);
    expect(third.filter((view) => view.isCurrent)).toEqual([]);

    const last = (await page(aliceLast, '?offset=6').expect(200)).body as DeviceView[];
    expect(last).toEqual([expect.objectContaining({ id: aliceLast.deviceId, isCurrent: true })]);
  });

  it("shows each user only their own devices, on every page, though the users' devices interleave", async () => {
    expect(await pageIds(bob)).toEqual(bobOrder);
    expect(await pageIds(bob, '?limit=1')).toEqual(bobOrder.slice(0, 1));
    expect(await pageIds(bob, '?limit=1&offset=1')).toEqual(bobOrder.slice(1));
    expect(await pageIds(bob, '?offset=2')).toEqual([]);
    for (let offset = 0; offset < 7; offset += 2) {
      const ids = await pageIds(aliceMiddle, `?limit=2&offset=${offset}`);
      expect(ids).toEqual(aliceOrder.slice(offset, offset + 2));
      expect(ids).not.toEqual(expect.arrayContaining([bobOrder[0]]));
    }
  });

  it.each<[string, string]>([
    ['?limit=0', LIMIT_MESSAGE],
    ['?limit=101', LIMIT_MESSAGE],
    ['?limit=-1', LIMIT_MESSAGE],
    ['?limit=1.5', LIMIT_MESSAGE],
    ['?limit=abc', LIMIT_MESSAGE],
    ['?limit=', LIMIT_MESSAGE],
    ['?limit=1&limit=2', LIMIT_MESSAGE],
    ['?limit=%201', LIMIT_MESSAGE],
    ['?limit=0x10', LIMIT_MESSAGE],
    ['?limit=1e1', LIMIT_MESSAGE],
    ['?limit=9999999999', LIMIT_MESSAGE],
    ['?offset=-1', OFFSET_MESSAGE],
    ['?offset=100001', OFFSET_MESSAGE],
    ['?offset=1e3', OFFSET_MESSAGE],
    ['?offset=', OFFSET_MESSAGE],
    ['?offset=2.0', OFFSET_MESSAGE],
    ['?offset=0&offset=1', OFFSET_MESSAGE],
    ['?limit=3&offset=abc', OFFSET_MESSAGE],
  ])('answers %s with 400 and a message naming the parameter', async (query, message) => {
    const response = await page(aliceMiddle, query).expect(400);
    expect(response.body).toEqual(badRequest(message));
  });

  it('accepts the bounds: limit 1 and 100, offset 0 and 100000', async () => {
    expect(await pageIds(aliceMiddle, '?limit=1')).toEqual(aliceOrder.slice(0, 1));
    expect(await pageIds(aliceMiddle, '?limit=100&offset=0')).toEqual(aliceOrder);
    expect(await pageIds(aliceMiddle, '?limit=100&offset=100000')).toEqual([]);
  });

  it('still asks for authentication first: no token is a 401 whatever the parameters', async () => {
    await http().get('/devices?limit=0').expect(401);
    await http().get('/devices?limit=3').expect(401);
  });

  describe('DeviceService.list', () => {
    it('pages the same way when called directly', async () => {
      const service = app.get(DeviceService);
      const ids = async (...args: Parameters<DeviceService['list']>) =>
        (await service.list(...args)).map((device) => device.id);

      expect(await ids('alice')).toEqual(aliceOrder);
      expect(await ids('alice', {})).toEqual(aliceOrder);
      expect(await ids('alice', { limit: 3 })).toEqual(aliceOrder.slice(0, 3));
      expect(await ids('alice', { limit: 3, offset: 3 })).toEqual(aliceOrder.slice(3, 6));
      expect(await ids('alice', { limit: 3, offset: 6 })).toEqual(aliceOrder.slice(6));
      expect(await ids('alice', { limit: 3, offset: 7 })).toEqual([]);
      expect(await ids('alice', { limit: 50 })).toEqual(aliceOrder);
      expect(await ids('alice', { offset: 0 })).toEqual(aliceOrder);
      expect(await ids('bob', { limit: 1, offset: 1 })).toEqual(bobOrder.slice(1));
      expect(await ids('nobody', { limit: 3 })).toEqual([]);
    });

    it('takes an offset without a limit (the limit defaults to all): every device after the offset', async () => {
      const service = app.get(DeviceService);
      expect((await service.list('alice', { offset: 5 })).map((device) => device.id)).toEqual(aliceOrder.slice(5));
      expect(await service.list('alice', { offset: 7 })).toEqual([]);
    });

    it('refuses a limit below 1 or an offset below 0, rather than reading every row', async () => {
      for (const bad of [{ limit: 0 }, { limit: -1 }, { limit: 1.5 }, { offset: -1 }, { offset: 0.5 }]) {
        await expect(app.get(DeviceService).list('alice', bad)).rejects.toBeInstanceOf(BadRequestException);
      }
    });
  });
});

describe(`GET /devices with many devices (${TEST_DB})`, () => {
  let app: INestApplication;
  let session: Login;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: false }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    const response = await http().post('/login').send({ userId: 'dave' }).expect(200);
    session = { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
    const base = Date.now();
    const rows = Array.from({ length: 120 }, (_, i) => deviceRow('dave', new Date(base - (i + 1) * MINUTE)));
    await app.get(DataSource).getRepository(Device).insert(rows);
  });

  afterAll(() => app?.close());

  const listed = async (query = '') =>
    (await http().get(`/devices${query}`).auth(session.access, { type: 'bearer' }).expect(200)).body as DeviceView[];

  it('lists 50 by default and at most 100, the current device first', async () => {
    const firstPage = await listed();
    expect(firstPage).toHaveLength(50);
    expect(firstPage[0]).toMatchObject({ id: session.deviceId, isCurrent: true });
    expect(await listed('?limit=100')).toHaveLength(100);
    expect(await listed('?offset=50')).toHaveLength(50);
    expect(await listed('?limit=100&offset=100')).toHaveLength(21);
  });

  it('gives the 121 devices once each across pages of 50', async () => {
    const all = [...(await listed()), ...(await listed('?offset=50')), ...(await listed('?offset=100'))];
    expect(all).toHaveLength(121);
    expect(new Set(idsOf(all)).size).toBe(121);
    const seen = all.map((view) => new Date(view.lastSeenAt).getTime());
    expect(seen).toEqual(seen.toSorted((a, b) => b - a));
  });
});

describe(`pages when devices were seen at the same instant (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterAll(() => app?.close());

  it('orders them the same way on every page: pages never overlap and none is lost', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: false }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    const response = await request(app.getHttpServer()).post('/login').send({ userId: 'erin' }).expect(200);
    const access = response.body.access_token as string;
    const instant = new Date(Date.now() - MINUTE);
    const rows = Array.from({ length: 9 }, () => deviceRow('erin', instant));
    await app.get(DataSource).getRepository(Device).insert(rows);

    const pages: string[] = [];
    for (let offset = 0; offset < 10; offset += 2) {
      const listed = await request(app.getHttpServer())
        .get(`/devices?limit=2&offset=${offset}`)
        .auth(access, { type: 'bearer' })
        .expect(200);
      pages.push(...idsOf(listed.body));
    }
    expect(pages).toHaveLength(10);
    expect(pages[0]).toBe(response.headers['x-device-id']);
    expect(pages.slice(1).toSorted()).toEqual(rows.map((row) => row.id).toSorted());
  });
});

describe(`pages of a user whose id differs from another's only by trailing spaces (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterAll(() => app?.close());

  it("fills every page with the user's own devices", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ lastSeenInterval: false }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    const repository = app.get(DataSource).getRepository(Device);
    const response = await request(app.getHttpServer()).post('/login').send({ userId: 'carol' }).expect(200);
    const access = response.body.access_token as string;
    const base = Date.now();
    // Carol's other devices, and more recently seen devices of the user 'carol ' (a different user).
    const carols = Array.from({ length: 3 }, (_, i) => deviceRow('carol', new Date(base - (10 + i) * MINUTE)));
    const others = Array.from({ length: 4 }, (_, i) => deviceRow('carol ', new Date(base - (i + 1) * MINUTE)));
    await repository.insert([...carols, ...others]);
    await repository.update({ id: response.headers['x-device-id'] }, { lastSeenAt: new Date(base - 20 * MINUTE) });
    const carolOrder = [...carols.map((row) => row.id), response.headers['x-device-id'] as string];

    const pageOf = async (query: string) =>
      idsOf(
        (await request(app!.getHttpServer()).get(`/devices${query}`).auth(access, { type: 'bearer' }).expect(200)).body,
      );
    expect(await pageOf('')).toEqual(carolOrder);
    expect(await pageOf('?limit=2')).toEqual(carolOrder.slice(0, 2));
    expect(await pageOf('?limit=2&offset=2')).toEqual(carolOrder.slice(2));
    const service = app.get(DeviceService);
    expect((await service.list('carol', { limit: 2 })).map((device) => device.id)).toEqual(carolOrder.slice(0, 2));
    expect((await service.list('carol ', { limit: 2 })).map((device) => device.id)).toEqual(
      others.slice(0, 2).map((row) => row.id),
    );
  });
});

describe(`GET /api/devices on the sample app, paginated (${TEST_DB})`, () => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const clock = new ManualClock();

  beforeAll(async () => {
    app = await startSampleApp({}, false, clock);
  });
  afterAll(() => app?.close());

  /** A login 5 ms after the last one, so "most recently signed in" is clear. */
  async function login(username: 'alice' | 'bob'): Promise<Login> {
    clock.advance(5);
    const response = await http()
      .post('/auth/login')
      .send({ username, password: `${username}-password` })
      .expect(200);
    return { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
  }

  it("pages the user's devices, most recently signed in first, behind the app's global ValidationPipe", async () => {
    const first = await login('alice');
    const second = await login('alice');
    const bob = await login('bob');
    const third = await login('alice');
    const list = (query: string) =>
      http().get(`/api/devices${query}`).auth(second.access, { type: 'bearer' }).expect(200);

    expect(idsOf((await list('?limit=2')).body)).toEqual([third.deviceId, second.deviceId]);
    const next = (await list('?limit=2&offset=2')).body as DeviceView[];
    expect(next).toEqual([expect.objectContaining({ id: first.deviceId, isCurrent: false })]);
    expect((await list('?limit=2')).body[1]).toMatchObject({ id: second.deviceId, isCurrent: true });
    expect((await list('?offset=3')).body).toEqual([]);
    const bobs = await http().get('/api/devices?limit=5').auth(bob.access, { type: 'bearer' }).expect(200);
    expect(idsOf(bobs.body)).toEqual([bob.deviceId]);

    const refused = await http().get('/api/devices?limit=abc').auth(second.access, { type: 'bearer' }).expect(400);
    expect(refused.body).toEqual(badRequest(LIMIT_MESSAGE));
    const refusedOffset = await http()
      .get('/api/devices?offset=-1')
      .auth(second.access, { type: 'bearer' })
      .expect(400);
    expect(refusedOffset.body).toEqual(badRequest(OFFSET_MESSAGE));
  });
});
