import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import {
  Device,
  DeviceService,
  DeviceTrackerEvents,
  type DeviceLoggedOutEvent,
  type DeviceView,
} from 'nestjs-device-tracker';
import request, { type Response } from 'supertest';
import { DataSource, In, type Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_AUTHS, type SampleAuth } from '../../sample-app/src/config.js';
import { TEST_DB } from '../support/database.js';
import { PLATFORM } from '../support/platform.js';
import { signInToSample, startSampleApp } from '../support/sample-app.js';

/**
 * Issue 7, IDOR: bob (a plain user) and an anonymous caller aim every devices and admin endpoint at alice's devices,
 * with her ids in every flavour. Nothing may succeed, her real ids must be answered exactly as random UUIDs are (no
 * oracle for whether a device exists), every refusal is a 4xx in Nest's shape, and her rows never change.
 */

const ALICE_USER_ID = '1';
const BOB_USER_ID = '2';
const UUID_MESSAGE = 'Device id must be a UUID';
const FORBIDDEN = 'Only administrators can manage the devices of other users';
/** What an anonymous caller is told, by the sample's `auth`: passport's stock 401, or DeviceJwtGuard's. */
const ANONYMOUS: Record<SampleAuth, string> = {
  passport: 'Unauthorized',
  'device-jwt': 'Sign in: this request carries no bearer token',
};

/** Alice's devices, one per state an attacker could probe: filled in before the matrix runs. */
const alice = { active: '', loggedOut: '', deleted: '' };
const aliceIds = () => [alice.active, alice.loggedOut, alice.deleted];

type Kind =
  /** A UUID that is not the caller's: must be answered exactly as a random UUID is. */
  | 'uuid'
  /** Not a UUID: the module's 400 when the route checks the id at all. */
  | 'malformed'
  /** Too long for some platforms' routers (Fastify's maxParamLength): any 4xx. */
  | 'huge';

interface Flavour {
  flavour: string;
  kind: Kind;
  /** Lazy: alice's ids exist only once `beforeAll` has run, after the table is built. */
  value: () => string;
}

const HYPHEN = '\u2010';
const FULLWIDTH = (text: string) => text.replace(/[0-9]/g, (digit) => String.fromCodePoint(0xff10 + Number(digit)));

const FLAVOURS: Flavour[] = [
  { flavour: 'A’s active device', kind: 'uuid', value: () => alice.active },
  { flavour: 'A’s logged-out device', kind: 'uuid', value: () => alice.loggedOut },
  { flavour: 'A’s deleted device', kind: 'uuid', value: () => alice.deleted },
  { flavour: 'A’s active device, upper-case', kind: 'uuid', value: () => alice.active.toUpperCase() },
  { flavour: 'A’s logged-out device, upper-case', kind: 'uuid', value: () => alice.loggedOut.toUpperCase() },
  { flavour: 'a random UUID', kind: 'uuid', value: () => randomUUID() },
  { flavour: 'the nil UUID', kind: 'uuid', value: () => '00000000-0000-0000-0000-000000000000' },
  { flavour: 'numeric: A’s user id', kind: 'malformed', value: () => ALICE_USER_ID },
  { flavour: 'numeric: 0', kind: 'malformed', value: () => '0' },
  { flavour: 'numeric: -1', kind: 'malformed', value: () => '-1' },
  { flavour: 'numeric: 1e3', kind: 'malformed', value: () => '1e3' },
  { flavour: 'numeric: 40 digits', kind: 'malformed', value: () => '9'.repeat(40) },
  { flavour: "SQL: ' OR 1=1 --", kind: 'malformed', value: () => "' OR 1=1 --" },
  { flavour: 'SQL: 1; DROP TABLE', kind: 'malformed', value: () => '1; DROP TABLE device_tracker_devices' },
  { flavour: "SQL: A’s id' OR '1'='1", kind: 'malformed', value: () => `${alice.active}' OR '1'='1` },
  { flavour: 'SQL: LIKE wildcard %', kind: 'malformed', value: () => '%' },
  { flavour: 'SQL: LIKE wildcards in a UUID', kind: 'malformed', value: () => `${alice.active.slice(0, 8)}-%` },
  { flavour: 'NoSQL: {"$ne":null}', kind: 'malformed', value: () => '{"$ne":null}' },
  { flavour: 'prototype key: __proto__', kind: 'malformed', value: () => '__proto__' },
  { flavour: 'path: ../../etc/passwd', kind: 'malformed', value: () => '../../etc/passwd' },
  { flavour: 'path: ../admin/devices', kind: 'malformed', value: () => `../admin/devices/${alice.active}` },
  { flavour: 'path: double-encoded ..%2F', kind: 'malformed', value: () => `..%2F${alice.active}` },
  { flavour: 'A’s id with a trailing newline', kind: 'malformed', value: () => `${alice.active}\n` },
  { flavour: 'A’s id with a NUL', kind: 'malformed', value: () => `${alice.active}\0` },
  { flavour: 'A’s id padded with spaces', kind: 'malformed', value: () => ` ${alice.active} ` },
  { flavour: 'A’s id in braces', kind: 'malformed', value: () => `{${alice.active}}` },
  { flavour: 'A’s id as urn:uuid:', kind: 'malformed', value: () => `urn:uuid:${alice.active}` },
  { flavour: 'A’s id without hyphens', kind: 'malformed', value: () => alice.active.replaceAll('-', '') },
  {
    flavour: 'unicode: A’s id with U+2010 hyphens',
    kind: 'malformed',
    value: () => alice.active.replaceAll('-', HYPHEN),
  },
  { flavour: 'unicode: A’s id in full-width digits', kind: 'malformed', value: () => FULLWIDTH(alice.active) },
  { flavour: 'unicode: right-to-left override', kind: 'malformed', value: () => `\u202e${alice.active}` },
  { flavour: 'unicode: accents and emoji', kind: 'malformed', value: () => 'ünïcödé-🙂-设备' },
  { flavour: 'a 10 kB string', kind: 'huge', value: () => 'a'.repeat(10 * 1024) },
];

type Actor = 'bob' | 'anonymous';

interface IdRoute {
  route: string;
  method: 'get' | 'post';
  admin: boolean;
  /** The request path with `value` in place of the id. */
  path: (value: string) => string;
}

const segment = (value: string) => encodeURIComponent(value);

const ID_ROUTES: IdRoute[] = [
  {
    route: 'POST /api/devices/:id/logout',
    method: 'post',
    admin: false,
    path: (value) => `/api/devices/${segment(value)}/logout`,
  },
  { route: 'GET /api/admin/devices/:id', method: 'get', admin: true, path: (v) => `/api/admin/devices/${segment(v)}` },
  {
    route: 'POST /api/admin/devices/:id/logout',
    method: 'post',
    admin: true,
    path: (value) => `/api/admin/devices/${segment(value)}/logout`,
  },
  {
    route: 'GET /api/admin/devices?userId=',
    method: 'get',
    admin: true,
    path: (value) => `/api/admin/devices?userId=${segment(value)}&active=true`,
  },
  {
    route: 'POST /api/admin/devices/logout-all?userId=',
    method: 'post',
    admin: true,
    path: (value) => `/api/admin/devices/logout-all?userId=${segment(value)}`,
  },
];

/**
 * What the answer must be. `same-as-random`: byte for byte the answer to a random UUID (status, headers, body), which
 * is itself `refusal`. `bad-id`: the module's 400. `any-4xx`: whatever the platform says, so long as it is a 4xx.
 */
type Expectation = 'same-as-random' | 'bad-id' | 'any-4xx';

/** The refusal a random UUID gets: guards run before the id is parsed, so they answer before any lookup. */
function refusal(route: IdRoute, actor: Actor, auth: SampleAuth): { status: number; message: string } {
  if (actor === 'anonymous') return { status: 401, message: ANONYMOUS[auth] };
  if (route.admin) return { status: 403, message: FORBIDDEN };
  return { status: 404, message: 'Device not found' };
}

function expectation(route: IdRoute, actor: Actor, kind: Kind): Expectation {
  if (kind === 'huge') return 'any-4xx';
  // Refused by a guard (no token, not an administrator) before the id is even read: the id makes no difference.
  if (actor === 'anonymous' || route.admin || kind === 'uuid') return 'same-as-random';
  return 'bad-id';
}

type Row = IdRoute & Flavour & { actor: Actor; expected: Expectation; title: string };

const MATRIX: Row[] = ID_ROUTES.flatMap((route) =>
  (['bob', 'anonymous'] as const).flatMap((actor) =>
    FLAVOURS.map((flavour) => {
      const expected = expectation(route, actor, flavour.kind);
      // The status is the same whatever the sample's `auth`; the message is checked per app below.
      const { status } = refusal(route, actor, 'passport');
      return {
        ...route,
        ...flavour,
        actor,
        expected,
        title: `${route.route} | ${actor} | ${flavour.flavour} → ${
          expected === 'same-as-random' ? `${status}, same as a random UUID` : expected === 'bad-id' ? '400' : 'a 4xx'
        }`,
      };
    }),
  ),
);

/** The rows expecting `expected`, with their titles first, for `it.each(…)('%s')`: `$field` would be quoted and cut. */
const rows = (expected: Expectation) =>
  MATRIX.filter((row) => row.expected === expected).map((row) => [row.title, row] as const);

const UUID_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const blank = (text: string) => text.replace(UUID_TEXT, '<uuid>');

/**
 * Everything a caller can observe of an answer but its date, with any UUID blanked out: an answer that echoed the id
 * asked about would still match the random UUID's, while one that differs in any other byte would not.
 */
function fingerprint(response: Response) {
  const { date: _date, ...headers } = response.headers as Record<string, string | string[]>;
  return {
    status: response.status,
    headers: JSON.parse(blank(JSON.stringify(headers))) as unknown,
    body: blank(response.text),
  };
}

/** A 4xx (never 2xx, 3xx or 5xx) in JSON: Nest's `{ statusCode, message, error? }` and nothing else. */
function expectRefusal(response: Response): void {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const { statusCode, message, error, ...rest } = response.body as Record<string, unknown>;
  // Fastify's router refuses a too-long parameter itself (414), before Nest sees the request, and adds its code.
  const platformOwn = PLATFORM === 'fastify' && response.status === 414 ? { code: 'FST_ERR_MAX_PARAM_LENGTH' } : {};
  expect(rest).toEqual(platformOwn);
  expect(statusCode).toBe(response.status);
  expect(typeof message).toBe('string');
  expect(['undefined', 'string']).toContain(typeof error);
}

const deviceHeader = () => ({ 'x-device-id': alice.active });
const deviceCookie = () => ({ cookie: `device_id=${alice.active}` });
const headersOf = (headers: Record<string, string> | (() => Record<string, string>)) =>
  typeof headers === 'function' ? headers() : headers;

describe.each(SAMPLE_AUTHS)(`IDOR matrix: bob against alice's devices (auth: %s, ${PLATFORM}, ${TEST_DB})`, (auth) => {
  let app: INestApplication;
  let devices: Repository<Device>;
  let bob: string;
  /** Alice's rows as they were before any attack: every column. */
  let aliceBefore: Device[];
  /** Every device logged out while the matrix runs, to catch a logout of one of alice's. */
  const loggedOut: DeviceLoggedOutEvent[] = [];
  const http = () => request(app.getHttpServer());

  const login = (username: string, headers: Record<string, string> = {}) => signInToSample(app, username, headers);

  /** Alice's rows, and any row holding one of her device ids, in a stable order. */
  const aliceRows = () =>
    devices.find({ where: [{ userId: ALICE_USER_ID }, { id: In(aliceIds()) }], order: { id: 'ASC' } });

  /** Alice's rows are exactly as before, no logout of hers was announced, and her deleted device is still gone. */
  async function expectAliceUntouched(): Promise<void> {
    expect(await aliceRows()).toEqual(aliceBefore);
    expect(loggedOut.filter(({ device }) => device.userId === ALICE_USER_ID)).toEqual([]);
  }

  beforeAll(async () => {
    app = await startSampleApp({ auth });
    devices = app.get(DataSource).getRepository(Device);
    app.get(EventEmitter2).on(DeviceTrackerEvents.DEVICE_LOGGED_OUT, (event: DeviceLoggedOutEvent) => {
      loggedOut.push(event);
    });

    // Alice's three devices, put in their states without a request of hers that would record `lastSeenAt` later.
    alice.active = (await login('alice', { 'user-agent': 'alice-laptop' })).deviceId;
    alice.loggedOut = (await login('alice', { 'user-agent': 'alice-phone' })).deviceId;
    alice.deleted = (await login('alice', { 'user-agent': 'alice-tablet' })).deviceId;
    await app.get(DeviceService).logout(ALICE_USER_ID, alice.loggedOut);
    await devices.delete({ id: alice.deleted });

    // The ids are real: the administrator sees the first two, so a 404 for bob is about ownership, not a typo.
    const admin = (await login('admin')).access;
    for (const id of [alice.active, alice.loggedOut]) {
      const shown = await http().get(`/api/admin/devices/${id}`).auth(admin, { type: 'bearer' }).expect(200);
      assert.equal(shown.body.userId, ALICE_USER_ID);
    }
    await http().get(`/api/admin/devices/${alice.deleted}`).auth(admin, { type: 'bearer' }).expect(404);

    bob = (await login('bob')).access;
    // A second device of bob's, so the log-outs below have something of his to do.
    await login('bob', { 'user-agent': 'bob-phone' });

    aliceBefore = await aliceRows();
    const [active, revoked] = [alice.active, alice.loggedOut].map((id) => aliceBefore.find((row) => row.id === id));
    assert.equal(aliceBefore.length, 2);
    assert.ok(
      active?.isActive && active.revokedAt === null && /^([\w-]+\/)?[0-9a-f]{64}$/.test(active.refreshTokenJti ?? ''),
    );
    assert.ok(revoked && !revoked.isActive && revoked.revokedAt !== null);
    loggedOut.length = 0;
  });

  afterAll(() => app?.close());

  function send({ method, path }: IdRoute, actor: Actor, value: string) {
    const call = http()[method](path(value));
    return actor === 'bob' ? call.auth(bob, { type: 'bearer' }) : call;
  }

  /** One row of the matrix: a refusal that shows nothing of alice's and changes none of her rows. */
  async function attack(row: Row): Promise<Response> {
    const value = row.value();
    const response = await send(row, row.actor, value);
    expectRefusal(response);
    // Nothing of alice's in the answer, beyond what the caller sent.
    for (const id of aliceIds().filter((own) => !value.toLowerCase().includes(own))) {
      expect(response.text.toLowerCase()).not.toContain(id);
    }
    await expectAliceUntouched();
    return response;
  }

  it.each(rows('same-as-random'))('%s', async (_title, row) => {
    const response = await attack(row);
    const reference = await send(row, row.actor, randomUUID());
    expect({ status: reference.status, message: reference.body.message }).toEqual(refusal(row, row.actor, auth));
    expect(fingerprint(response)).toEqual(fingerprint(reference));
  });

  it.each(rows('bad-id'))('%s', async (_title, row) => {
    const response = await attack(row);
    expect({ status: response.status, message: response.body.message }).toEqual({ status: 400, message: UUID_MESSAGE });
  });

  it.each(rows('any-4xx'))('%s', async (_title, row) => {
    const response = await attack(row);
    // The guard's refusal or the module's 400, unless the platform refuses it first: Fastify's router with 414 (or 404
    // where no route has that method), Node's parser with 431 for headers too large.
    expect([refusal(row, row.actor, auth).status, 400, 404, 414, 431]).toContain(response.status);
  });

  it.each([
    '/api/admin/devices',
    '/api/admin/devices?active=false&limit=100',
    '/api/admin/devices?ip=127.0.0.1&seenSince=2000-01-01',
    '/api/admin/devices?offset=-1',
  ])('GET %s | bob → 403, the admin guard’s answer and nothing else', async (path) => {
    const response = await http().get(path).auth(bob, { type: 'bearer' });
    expect(response.status).toBe(403);
    // Even a malformed filter is answered by the guard: the parameters are not read for a non-administrator.
    expect(response.body).toEqual({ statusCode: 403, error: 'Forbidden', message: FORBIDDEN });
    await expectAliceUntouched();
  });

  it.each(['', '?userId=', `?userId=${ALICE_USER_ID}&userId=${BOB_USER_ID}`])(
    'POST /api/admin/devices/logout-all%s | bob → 403, the admin guard’s answer and nothing else',
    async (query) => {
      const response = await http().post(`/api/admin/devices/logout-all${query}`).auth(bob, { type: 'bearer' });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ statusCode: 403, error: 'Forbidden', message: FORBIDDEN });
      await expectAliceUntouched();
    },
  );

  /** bob's own endpoints, with alice's ids and user id slipped into every place a request can carry them. */
  const SCOPED = [
    { name: 'GET /api/devices', path: '/api/devices', headers: {} },
    { name: 'GET /api/devices?userId=<A’s user id>', path: `/api/devices?userId=${ALICE_USER_ID}`, headers: {} },
    { name: 'GET /api/devices, x-device-id: <A’s device>', path: '/api/devices', headers: () => deviceHeader() },
    { name: 'GET /api/devices, cookie device_id=<A’s device>', path: '/api/devices', headers: () => deviceCookie() },
  ];

  it.each(SCOPED.map((row) => [row.name, row] as const))('%s | bob → only bob’s devices', async (_name, row) => {
    const { path, headers } = row;
    const response = await http().get(path).auth(bob, { type: 'bearer' }).set(headersOf(headers)).expect(200);
    const ids = (response.body as DeviceView[]).map(({ id }) => id);
    const bobs = await devices.findBy({ userId: BOB_USER_ID });
    expect(ids.toSorted()).toEqual(bobs.map(({ id }) => id).toSorted());
    for (const id of aliceIds()) expect(response.text.toLowerCase()).not.toContain(id);
    // The device bob claims to be is not his: his own device stays the current one.
    expect((response.body as DeviceView[]).filter(({ isCurrent }) => isCurrent)).toHaveLength(1);
    await expectAliceUntouched();
  });

  /** Mass log-outs by bob, each from a fresh sign-in of his, with alice's ids and user id in the request. */
  const MASS = [
    { name: 'logout-others, x-device-id: <A’s device>', path: 'logout-others', headers: () => deviceHeader() },
    { name: 'logout-others, cookie device_id=<A’s device>', path: 'logout-others', headers: () => deviceCookie() },
    {
      name: 'logout-others?userId=<A’s user id>, body { userId }',
      path: `logout-others?userId=${ALICE_USER_ID}`,
      headers: () => ({}),
    },
    { name: 'logout-all, x-device-id: <A’s device>', path: 'logout-all', headers: () => deviceHeader() },
    {
      name: 'logout-all?userId=<A’s user id>, body { userId }',
      path: `logout-all?userId=${ALICE_USER_ID}`,
      headers: () => ({}),
    },
  ];

  it.each(MASS.map((row) => [row.name, row] as const))(
    'POST /api/devices/%s | bob → bob’s only',
    async (_name, row) => {
      const { path, headers } = row;
      // Fresh devices of bob's: his earlier ones (and the matrix's token) may be logged out by now.
      const attacker = await login('bob', { 'user-agent': 'bob-attacker' });
      await login('bob', { 'user-agent': 'bob-other-device' });
      const bobsActive = await devices.countBy({ userId: BOB_USER_ID, isActive: true });
      const others = path.startsWith('logout-others');

      const response = await http()
        .post(`/api/devices/${path}`)
        .auth(attacker.access, { type: 'bearer' })
        .set(headers())
        .send({ userId: ALICE_USER_ID, deviceId: alice.active })
        .expect(200);

      expect(response.body).toEqual({ loggedOut: others ? bobsActive - 1 : bobsActive });
      const stillActive = await devices.findBy({ userId: BOB_USER_ID, isActive: true });
      expect(stillActive.map(({ id }) => id)).toEqual(others ? [attacker.deviceId] : []);
      await expectAliceUntouched();
    },
  );

  it.each([
    ['x-device-id: <A’s active device>', () => deviceHeader()],
    ['cookie device_id=<A’s logged-out device>', () => ({ cookie: `device_id=${alice.loggedOut}` })],
    ['x-device-id: <A’s deleted device>', () => ({ 'x-device-id': alice.deleted })],
  ] as const)('POST /auth/login, %s | bob → a new device of his own', async (_name, headers) => {
    const { deviceId } = await login('bob', headers());
    expect(aliceIds()).not.toContain(deviceId);
    expect(await devices.findOneByOrFail({ id: deviceId })).toMatchObject({ userId: BOB_USER_ID, isActive: true });
    await expectAliceUntouched();
  });
});
