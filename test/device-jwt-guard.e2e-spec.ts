import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import type { DeviceJwtOptions, DeviceView } from 'nestjs-device-tracker';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionVerifier } from '../lib/sessions/session-verifier.js';
import {
  type AccessSigner,
  type DeviceJwtAppOptions,
  DeviceJwtAppModule,
  FIXTURE_AUDIENCE,
  FIXTURE_ISSUER,
  FIXTURE_SECRET,
} from './fixtures/device-jwt-app.module.js';
import { TEST_DB } from './support/database.js';
import { LogCollector } from './support/log-collector.js';
import { PLATFORM, startTestApp } from './support/platform.js';
import { claimsOf } from './support/token-claims.js';

/**
 * Issue 16: DeviceJwtGuard authenticates the bearer token and checks its device session in one step, under the
 * module's `jwt` option, in a host app that signs its own tokens (test/fixtures/device-jwt-app.module.ts).
 */

const EXPIRED = 'The access token has expired';
const NOT_YET = 'The access token is not valid yet';
const INVALID = 'Invalid access token';
const NO_BEARER = 'Sign in: this request carries no bearer token';
const LOGGED_OUT = 'This device has been logged out; sign in again';
const NO_SESSION =
  'This token carries no device session (sid claim): sign `...device.claims` from @CurrentDevice() into the tokens ' +
  'your @TrackDevice() login issues';
/** passport's stock refusal (`new UnauthorizedException()`). */
const PASSPORT_REFUSAL = { statusCode: 401, message: 'Unauthorized' };

type Claims = Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** The claims of a token the app signed, without its timestamps, to sign again differently. */
const unstamped = (token: string): Claims => {
  const { iat: _iat, exp: _exp, ...claims } = claimsOf(token);
  return claims;
};

const rsaKeys = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
/** A key pair that is not the app's. */
const OTHER_RSA = rsaKeys().privateKey;

/** The app's access tokens: HS256, its secret, issuer and audience, ten minutes. */
const signHs256: AccessSigner = (claims) =>
  jwt.sign(claims, FIXTURE_SECRET, {
    algorithm: 'HS256',
    expiresIn: 600,
    issuer: FIXTURE_ISSUER,
    audience: FIXTURE_AUDIENCE,
  });

/** Access tokens as the defaults verify them: HS256, no issuer or audience. */
const signPlain: AccessSigner = (claims) => jwt.sign(claims, FIXTURE_SECRET, { expiresIn: 600 });

const HS256_JWT: DeviceJwtOptions = {
  secret: FIXTURE_SECRET,
  algorithms: ['HS256'],
  issuer: FIXTURE_ISSUER,
  audience: FIXTURE_AUDIENCE,
};

/** What a caller sees of an answer: its status, whether it is JSON, and its body. */
const answer = (response: Response) => ({
  status: response.status,
  json: String(response.headers['content-type']).startsWith('application/json'),
  body: response.body as unknown,
});

/** Nest's 401 with this message (`new UnauthorizedException(message)`), as JSON. */
const unauthorized = (message: string) => ({
  status: 401,
  json: true,
  body: { statusCode: 401, message, error: 'Unauthorized' },
});

/** The lines logged that hold the token or its signature (what makes it usable), and any error: none, always. */
function badLogLines(logs: LogCollector, token: string): string[] {
  const secrets = [token, token.split('.')[2]].filter((secret): secret is string => Boolean(secret));
  return [...logs.all().filter((line) => secrets.some((secret) => line.includes(secret))), ...logs.lines.error];
}

async function start(options: DeviceJwtAppOptions, logs: LogCollector): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [DeviceJwtAppModule.with(options)] })
    .setLogger(logs)
    .compile();
  return startTestApp(moduleRef, { logger: logs });
}

interface Login {
  access: string;
  deviceId: string;
}

/** What every describe below does with its app. */
function client(app: () => INestApplication) {
  const http = () => request(app().getHttpServer());
  return {
    http,
    async login(userId: string, userAgent = 'device-jwt-test'): Promise<Login> {
      const response = await http().post('/login').set('user-agent', userAgent).send({ userId }).expect(200);
      return { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
    },
    get(path: string, token?: string) {
      const call = http().get(path);
      return token === undefined ? call : call.set('authorization', `Bearer ${token}`);
    },
  };
}

describe(`DeviceJwtGuard: HS256 with issuer and audience, beside passport (${PLATFORM}, ${TEST_DB})`, () => {
  let app: INestApplication;
  const logs = new LogCollector();
  const { http, login, get } = client(() => app);
  /** A live session, whose claims the forged tokens below reuse. */
  let live: Login;

  beforeAll(async () => {
    app = await start({ jwt: HS256_JWT, sign: signHs256, passport: true }, logs);
    live = await login('1');
  });
  afterAll(() => app?.close());
  beforeEach(() => logs.clear());

  it('serves a live token: request.user is its verified claims, and the device is the one it signed in from', async () => {
    const { body } = await get('/claims', live.access).expect(200);
    expect(body).toEqual({ user: claimsOf(live.access), deviceId: live.deviceId });
    expect(body.user).toMatchObject({ sub: '1', iss: FIXTURE_ISSUER, aud: FIXTURE_AUDIENCE, sid: expect.any(String) });
  });

  it("refuses a logged-out device's token at once, and still serves the user's other device", async () => {
    const phone = await login('2', 'phone');
    const laptop = await login('2', 'laptop');
    await get('/claims', phone.access).expect(200);
    // Logged out through the module's endpoint, which authenticates with DeviceJwtGuard too.
    await http().post(`/devices/${phone.deviceId}/logout`).auth(laptop.access, { type: 'bearer' }).expect(200);

    expect(answer(await get('/claims', phone.access))).toEqual(unauthorized(LOGGED_OUT));
    await get('/claims', laptop.access).expect(200);
    expect(badLogLines(logs, phone.access)).toEqual([]);
  });

  /** Tokens from good claims that the guard must refuse, and its answer to each. */
  const FORGERIES: [string, (claims: Claims) => string, string][] = [
    ['signed with another secret', (claims) => jwt.sign(claims, 'not-the-secret', { expiresIn: 600 }), INVALID],
    ['alg none, unsigned', (claims) => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`, INVALID],
    [
      'alg none, keeping a valid HS256 signature',
      (claims) => {
        const [, payload, signature] = jwt.sign(claims, FIXTURE_SECRET, { expiresIn: 600 }).split('.');
        return `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
      },
      INVALID,
    ],
    [
      'HS512 with the right secret, when only HS256 is pinned',
      (claims) => jwt.sign(claims, FIXTURE_SECRET, { algorithm: 'HS512', expiresIn: 600 }),
      INVALID,
    ],
    [
      'RS256 with some RSA key',
      (claims) => jwt.sign(claims, OTHER_RSA, { algorithm: 'RS256', expiresIn: 600 }),
      INVALID,
    ],
    [
      'expired (exp an hour ago)',
      (claims) => jwt.sign({ ...claims, iat: now() - 7200, exp: now() - 3600 }, FIXTURE_SECRET),
      EXPIRED,
    ],
    [
      'not valid yet (nbf in an hour)',
      (claims) => jwt.sign(claims, FIXTURE_SECRET, { expiresIn: 7200, notBefore: 3600 }),
      NOT_YET,
    ],
    ['with a wrong iss', (claims) => jwt.sign({ ...claims, iss: 'someone-else' }, FIXTURE_SECRET), INVALID],
    ['with no iss', ({ iss: _iss, ...claims }) => jwt.sign(claims, FIXTURE_SECRET), INVALID],
    ['with a wrong aud', (claims) => jwt.sign({ ...claims, aud: 'another-api' }, FIXTURE_SECRET), INVALID],
    ['with no aud', ({ aud: _aud, ...claims }) => jwt.sign(claims, FIXTURE_SECRET), INVALID],
    ['not a JWT at all', () => 'not-a-jwt', INVALID],
  ];

  describe.each(['/claims', '/skip'])('GET %s', (path) => {
    it.each(FORGERIES)(
      'refuses an access token %s, in Nest’s shape, logging no token',
      async (_name, forge, message) => {
        const token = forge(unstamped(live.access));
        logs.clear();
        expect(answer(await get(path, token))).toEqual(unauthorized(message));
        expect(badLogLines(logs, token)).toEqual([]);
      },
    );

    it.each([
      ['no Authorization header', undefined],
      ['another scheme', `Basic ${Buffer.from('alice:alice-password').toString('base64')}`],
      ['Bearer and nothing else', 'Bearer'],
    ])('asks to sign in on %s', async (_name, header) => {
      const call = http().get(path);
      expect(answer(await (header === undefined ? call : call.set('authorization', header)))).toEqual(
        unauthorized(NO_BEARER),
      );
    });
  });

  it('with @SkipDeviceSession(), still authenticates but does not check the session', async () => {
    const old = await login('3', 'old');
    await http().post(`/devices/${old.deviceId}/logout`).auth(old.access, { type: 'bearer' }).expect(200);
    expect(answer(await get('/claims', old.access))).toEqual(unauthorized(LOGGED_OUT));

    const { body } = await get('/skip', old.access).expect(200);
    expect(body).toEqual({ user: claimsOf(old.access), device: null });
  });

  it('works beside AuthGuard("jwt") + DeviceSessionGuard: one token serves both, a logout ends it on both', async () => {
    const session = await login('4');
    const viaPassport = await get('/passport', session.access).expect(200);
    const viaGuard = await get('/claims', session.access).expect(200);
    expect(viaPassport.body).toEqual(viaGuard.body);

    // Each refuses a forged token in its own words: passport's stock 401, DeviceJwtGuard's reason.
    const forged = jwt.sign(unstamped(session.access), 'not-the-secret');
    expect(answer(await get('/passport', forged))).toEqual({ status: 401, json: true, body: PASSPORT_REFUSAL });
    expect(answer(await get('/claims', forged))).toEqual(unauthorized(INVALID));

    await http().post(`/devices/${session.deviceId}/logout`).auth(session.access, { type: 'bearer' }).expect(200);
    expect(answer(await get('/passport', session.access))).toEqual(unauthorized(LOGGED_OUT));
    expect(answer(await get('/claims', session.access))).toEqual(unauthorized(LOGGED_OUT));
  });

  it("authenticates the module's endpoints with DeviceJwtGuard when no authGuard is given, passport or not", async () => {
    expect(answer(await get('/devices'))).toEqual(unauthorized(NO_BEARER));
    expect(answer(await get('/devices', jwt.sign(unstamped(live.access), 'not-the-secret')))).toEqual(
      unauthorized(INVALID),
    );
    const { body } = await get('/devices', live.access).expect(200);
    expect((body as DeviceView[]).map(({ id, isCurrent }) => ({ id, isCurrent }))).toEqual([
      { id: live.deviceId, isCurrent: true },
    ]);
  });
});

describe(`DeviceJwtGuard with only jwt: { secret }, and no passport strategy at all (${PLATFORM}, ${TEST_DB})`, () => {
  let app: INestApplication;
  const logs = new LogCollector();
  const { http, login, get } = client(() => app);

  beforeAll(async () => {
    app = await start({ jwt: { secret: FIXTURE_SECRET }, sign: signPlain }, logs);
  });
  afterAll(() => app?.close());
  beforeEach(() => logs.clear());

  it("serves the module's /devices endpoints: list, log out one device, then all", async () => {
    const phone = await login('1', 'phone');
    const laptop = await login('1', 'laptop');
    const tablet = await login('1', 'tablet');
    const listed = await get('/devices', laptop.access).expect(200);
    expect((listed.body as DeviceView[]).map(({ id }) => id).toSorted()).toEqual(
      [phone.deviceId, laptop.deviceId, tablet.deviceId].toSorted(),
    );
    expect((listed.body as DeviceView[]).find(({ isCurrent }) => isCurrent)?.id).toBe(laptop.deviceId);

    await http().post(`/devices/${phone.deviceId}/logout`).auth(laptop.access, { type: 'bearer' }).expect(200);
    expect(answer(await get('/devices', phone.access))).toEqual(unauthorized(LOGGED_OUT));
    expect(answer(await get('/claims', phone.access))).toEqual(unauthorized(LOGGED_OUT));

    const all = await http().post('/devices/logout-all').auth(laptop.access, { type: 'bearer' }).expect(200);
    expect(all.body).toEqual({ loggedOut: 2 });
    expect(answer(await get('/devices', laptop.access))).toEqual(unauthorized(LOGGED_OUT));
    expect(answer(await get('/claims', tablet.access))).toEqual(unauthorized(LOGGED_OUT));
    expect(badLogLines(logs, laptop.access)).toEqual([]);
  });

  it('checks the session of a request to the module’s endpoints once: it authenticates there, as any authGuard', async () => {
    const { access } = await login('4');
    const verify = vi.spyOn(app.get(SessionVerifier), 'verify');
    try {
      await get('/devices', access).expect(200);
      expect(verify).toHaveBeenCalledTimes(1);
    } finally {
      verify.mockRestore();
    }
  });

  it('serves the module’s endpoints a token without a session claim, with the warning, and its routes refuse it', async () => {
    // As behind passport's AuthGuard: the module's endpoints serve the user and name the fix (ownEndpointsWithoutSession),
    // while a route of the app refuses the token (withoutSession: 'deny', the default).
    const token = signPlain({ sub: '9' });
    expect((await get('/devices', token).expect(200)).body).toEqual([]);
    expect(logs.lines.warn).toEqual([expect.stringMatching(/Tokens carry no device session \(sid claim\)/)]);
    expect(answer(await get('/claims', token))).toEqual(unauthorized(NO_SESSION));
  });

  it('pins HS256 by default: HS384 and HS512 with the right secret are refused', async () => {
    const { access } = await login('2');
    await get('/claims', access).expect(200);
    for (const algorithm of ['HS384', 'HS512'] as const) {
      expect(answer(await get('/claims', jwt.sign(unstamped(access), FIXTURE_SECRET, { algorithm })))).toEqual(
        unauthorized(INVALID),
      );
    }
  });

  it('checks no iss or aud unless configured, but still exp', async () => {
    const { access } = await login('3');
    const claims = { ...unstamped(access), iss: 'anyone', aud: 'anything' };
    await get('/claims', jwt.sign(claims, FIXTURE_SECRET, { expiresIn: 600 })).expect(200);
    expect(answer(await get('/claims', jwt.sign({ ...claims, exp: now() - 1 }, FIXTURE_SECRET)))).toEqual(
      unauthorized(EXPIRED),
    );
  });

  it('refuses a well-signed token whose payload is not claims (a signed string)', async () => {
    const token = jwt.sign('just a string', FIXTURE_SECRET);
    expect(answer(await get('/claims', token))).toEqual(unauthorized(INVALID));
    expect(badLogLines(logs, token)).toEqual([]);
  });
});

const RSA = rsaKeys();
const RSA_PUBLIC_PEM = RSA.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const signRs256: AccessSigner = (claims) => jwt.sign(claims, RSA.privateKey, { algorithm: 'RS256', expiresIn: 600 });

describe.each<[string, string | KeyObject]>([
  ['a PEM string', RSA_PUBLIC_PEM],
  ['a public KeyObject', createPublicKey(RSA_PUBLIC_PEM)],
])(`DeviceJwtGuard with an RS256 publicKey given as %s (${PLATFORM}, ${TEST_DB})`, (_form, publicKey) => {
  let app: INestApplication;
  const logs = new LogCollector();
  const { login, get } = client(() => app);

  beforeAll(async () => {
    app = await start({ jwt: { publicKey, algorithms: ['RS256'] }, sign: signRs256 }, logs);
  });
  afterAll(() => app?.close());

  it('serves a token the private key signed', async () => {
    const { access, deviceId } = await login('1');
    expect((await get('/claims', access).expect(200)).body).toEqual({ user: claimsOf(access), deviceId });
  });

  it.each<[string, (claims: Claims) => string]>([
    // The public key is public: an HMAC keyed with it is the classic algorithm confusion.
    ['HS256 keyed with the public key', (claims) => jwt.sign(claims, RSA_PUBLIC_PEM, { algorithm: 'HS256' })],
    ['RS256 of another key', (claims) => jwt.sign(claims, OTHER_RSA, { algorithm: 'RS256' })],
    [
      'RS512 of the right key, when only RS256 is pinned',
      (claims) => jwt.sign(claims, RSA.privateKey, { algorithm: 'RS512' }),
    ],
    ['PS256 of the right key', (claims) => jwt.sign(claims, RSA.privateKey, { algorithm: 'PS256' })],
  ])('refuses %s', async (_name, forge) => {
    const { access } = await login('2');
    const token = forge({ ...unstamped(access), exp: now() + 600 });
    expect(answer(await get('/claims', token))).toEqual(unauthorized(INVALID));
    expect(badLogLines(logs, token)).toEqual([]);
  });
});

describe('DeviceJwtGuard fails the start, naming the option', () => {
  // Its own in-memory database: an app that fails half-way cannot be closed, so it must not share the test one.
  const MEMORY = { type: 'better-sqlite3', database: ':memory:' } as const;

  async function starting(jwtOptions: DeviceJwtOptions | undefined): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [DeviceJwtAppModule.with({ jwt: jwtOptions, sign: signHs256 }, MEMORY)],
    })
      .setLogger(new LogCollector())
      .compile();
    await startTestApp(moduleRef, { logger: false });
  }

  it('without the jwt option, on an app with a route behind DeviceJwtGuard', async () => {
    await expect(starting(undefined)).rejects.toThrow(
      /DeviceJwtGuard needs the `jwt` option of DeviceTrackerModule\.forRoot\(\)/,
    );
  });

  const { publicKey } = rsaKeys();
  const ASYMMETRIC = /jwt\.algorithms must be one or more of RS256, .*ES512 with publicKey/;
  const HMAC = /jwt\.algorithms must be one or more of HS256, HS384, HS512 with secret/;

  it.each<[string, DeviceJwtOptions, RegExp]>([
    [
      'both secret and publicKey',
      { secret: FIXTURE_SECRET, publicKey },
      /jwt needs exactly one of secret and publicKey/,
    ],
    ['neither secret nor publicKey', {}, /jwt needs exactly one of secret and publicKey/],
    ['publicKey without algorithms', { publicKey }, /jwt\.algorithms is required with publicKey: one or more of RS256/],
    ['publicKey with none', { publicKey, algorithms: ['none' as 'RS256'] }, ASYMMETRIC],
    ['publicKey with HS256', { publicKey, algorithms: ['HS256'] }, ASYMMETRIC],
    ['publicKey with no algorithms at all', { publicKey, algorithms: [] }, ASYMMETRIC],
    ['secret with none', { secret: FIXTURE_SECRET, algorithms: ['none' as 'HS256'] }, HMAC],
    ['secret with RS256', { secret: FIXTURE_SECRET, algorithms: ['RS256'] }, HMAC],
    ['an empty secret', { secret: '' }, /jwt\.secret is not a usable key: it is empty/],
    ['an empty Buffer secret', { secret: Buffer.alloc(0) }, /jwt\.secret is not a usable key: it is empty/],
    [
      'a publicKey that is no key',
      { publicKey: 'not a key', algorithms: ['RS256'] },
      /jwt\.publicKey is not a usable key/,
    ],
    [
      'a negative clockTolerance',
      { secret: FIXTURE_SECRET, clockTolerance: -1 },
      /jwt\.clockTolerance must be a number of seconds >= 0 \(got -1\)/,
    ],
    [
      'a clockTolerance that is not a number',
      { secret: FIXTURE_SECRET, clockTolerance: Number.NaN },
      /jwt\.clockTolerance must be a number of seconds >= 0 \(got NaN\)/,
    ],
    ['an empty issuer', { secret: FIXTURE_SECRET, issuer: '' }, /jwt\.issuer must be a non-empty string/],
    ['an empty audience list', { secret: FIXTURE_SECRET, audience: [] }, /jwt\.audience must be a non-empty string/],
  ])('with %s', async (_name, options, message) => {
    const failure = starting(options);
    await expect(failure).rejects.toThrow(/^DeviceTrackerModule: /);
    await expect(failure).rejects.toThrow(message);
  });
});
