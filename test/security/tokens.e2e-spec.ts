import { generateKeyPairSync } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { getRepositoryToken } from '@nestjs/typeorm';
import { Device } from 'nestjs-device-tracker';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, SAMPLE_AUTHS, type SampleAuth } from '../../sample-app/src/config.js';
import { hashPassword } from '../../sample-app/src/users/password.js';
import { User } from '../../sample-app/src/users/user.entity.js';
import { TEST_DB } from '../support/database.js';
import { LogCollector } from '../support/log-collector.js';
import { ManualClock } from '../support/manual-clock.js';
import { PLATFORM } from '../support/platform.js';
import { type SampleLogin, signInToSample, startSampleApp } from '../support/sample-app.js';
import { claimsOf } from '../support/token-claims.js';

/** The secrets, issuer and audience the sample app signs with: it runs on `loadConfig({})`'s defaults. */
const SAMPLE_JWT = loadConfig({}).jwt;
const WRONG_SECRET = 'not-the-sample-secret';
const LOGGED_OUT = 'This device has been logged out; sign in again';
/** DeviceJwtGuard's answer to a token it cannot accept (a bad signature, algorithm, issuer or audience). */
const INVALID = 'Invalid access token';
const REVOKED = 'Refresh token has been revoked or already used';
const jwt = new JwtService();
const now = () => Math.floor(Date.now() / 1000);

type Claims = Record<string, unknown>;

/** What a case may use to build its token: a live session of alice's, and the app to set the stage in. */
interface Stage {
  alice: SampleLogin;
  /** The app's time. */
  clock: ManualClock;
  login(username?: string): Promise<SampleLogin>;
  refresh(token: string): request.Test;
  logout(session: SampleLogin): Promise<void>;
  /** A user signed in on one device, then deleted from `sample_users`: their session, and their id. */
  deletedUser(): Promise<SampleLogin & { id: number }>;
}

/** The claims of a real token, without its timestamps, to sign again differently. */
function unstamped(token: string): Claims {
  const { iat: _iat, exp: _exp, ...claims } = claimsOf(token);
  return claims;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`), built by hand: no JWT library will sign one. */
const unsigned = (claims: Claims) =>
  `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iat: now(), exp: now() + 600, ...claims })}.`;

const RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
});

/**
 * Ways to mint a token from good claims that the app must still refuse, whichever secret it checks with: `reason` is
 * what jsonwebtoken says (passport-jwt hands it over, JwtAuthGuard logs it), `guard` what DeviceJwtGuard answers.
 */
const forgeries = (secret: string) =>
  ({
    'expired (exp an hour ago)': {
      reason: 'jwt expired',
      guard: 'The access token has expired',
      sign: (claims: Claims) => jwt.sign({ ...claims, iat: now() - 7200, exp: now() - 3600 }, { secret }),
    },
    'not yet valid (nbf in an hour)': {
      reason: 'jwt not active',
      guard: 'The access token is not valid yet',
      sign: (claims: Claims) => jwt.sign(claims, { secret, expiresIn: 600, notBefore: 3600 }),
    },
    'signed with a wrong secret': {
      reason: 'invalid signature',
      guard: INVALID,
      sign: (claims: Claims) => jwt.sign(claims, { secret: WRONG_SECRET, expiresIn: 600 }),
    },
    'alg none, unsigned': {
      reason: 'jwt signature is required',
      guard: INVALID,
      sign: (claims: Claims) => unsigned(claims),
    },
    'alg none, keeping a valid HS256 signature': {
      reason: 'invalid algorithm',
      guard: INVALID,
      sign: (claims: Claims) => {
        const [, payload, signature] = jwt.sign(claims, { secret, expiresIn: 600 }).split('.');
        return `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
      },
    },
    'HS512 with the right secret': {
      reason: 'invalid algorithm',
      guard: INVALID,
      sign: (claims: Claims) => jwt.sign(claims, { secret, expiresIn: 600, algorithm: 'HS512' }),
    },
    'RS256 with some RSA key': {
      reason: 'invalid algorithm',
      guard: INVALID,
      sign: (claims: Claims) => jwt.sign(claims, { privateKey: RSA_KEY, expiresIn: 600, algorithm: 'RS256' }),
    },
    // The right secret, but not this app's token: another service sharing the secret, or a token for another API.
    'with a wrong iss': {
      reason: `jwt issuer invalid. expected: ${SAMPLE_JWT.issuer}`,
      guard: INVALID,
      sign: (claims: Claims) => jwt.sign({ ...claims, iss: 'someone-else' }, { secret, expiresIn: 600 }),
    },
    'with no iss': {
      reason: `jwt issuer invalid. expected: ${SAMPLE_JWT.issuer}`,
      guard: INVALID,
      sign: ({ iss: _iss, ...claims }: Claims) => jwt.sign(claims, { secret, expiresIn: 600 }),
    },
    'with a wrong aud': {
      reason: `jwt audience invalid. expected: ${SAMPLE_JWT.audience}`,
      guard: INVALID,
      sign: (claims: Claims) => jwt.sign({ ...claims, aud: 'another-api' }, { secret, expiresIn: 600 }),
    },
    'with no aud': {
      reason: `jwt audience invalid. expected: ${SAMPLE_JWT.audience}`,
      guard: INVALID,
      sign: ({ aud: _aud, ...claims }: Claims) => jwt.sign(claims, { secret, expiresIn: 600 }),
    },
  }) as const;

interface Case {
  name: string;
  method: 'get' | 'post';
  path: '/me' | '/api/devices' | '/auth/refresh';
  /** The token to present (empty: none), built once the stage is set. */
  token(stage: Stage): Promise<string> | string;
  /** The answer's message. */
  message: string;
  /** Lines the refusal must log, among others: `[context] message`, at their level. */
  log: LogLine[];
}

type Level = keyof LogCollector['lines'];
interface LogLine {
  level: Level;
  text: RegExp;
}
/** A whole line, as text or a pattern. */
const line = (level: Level, text: string | RegExp): LogLine => ({
  level,
  text: new RegExp(`^${typeof text === 'string' ? text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : text.source}$`),
});

const ACCESS_ROUTES = [
  { method: 'get', path: '/me' },
  { method: 'get', path: '/api/devices' },
] as const;
const REFRESH_ROUTE = { method: 'post', path: '/auth/refresh' } as const;
const accessRefused = (path: string, reason: string) =>
  line('warn', `[Auth] Access token refused on GET ${path}: ${reason}`);
/** Any line of JwtAuthGuard or SampleJwtGuard refusing an access token. */
const ACCESS_REFUSED = /^\[Auth\] Access token refused on /;

/**
 * The answer and log line of a token the app's JWT check refuses, by `auth`: with passport, the stock 401 and
 * jsonwebtoken's or passport-jwt's `reason` in the log; with DeviceJwtGuard, its `guard` message in both.
 */
function tokenRefused(auth: SampleAuth, path: string, reason: string, guard: string): Pick<Case, 'message' | 'log'> {
  return auth === 'passport'
    ? { message: 'Unauthorized', log: [accessRefused(path, reason)] }
    : { message: guard, log: [accessRefused(path, guard)] };
}
const refreshRefused = (reason: string | RegExp) =>
  line(
    'warn',
    typeof reason === 'string'
      ? `[Auth] Refresh refused: ${reason}`
      : new RegExp(`\\[Auth\\] Refresh refused: ${reason.source}`),
  );
const SESSION_REFUSED = line(
  'debug',
  /\[DeviceTracker\] Refused a request of user 1: its device session is logged out, replaced or unknown/,
);
const REUSE_DETECTED = line(
  'warn',
  /\[DeviceTracker\] Refresh token reuse detected on device [0-9a-f-]{36} of user 1; it was logged out/,
);

/** Alice signed in on a new device and refreshed once, past the grace: the replaced token, and the newest ones. */
async function afterReuse(stage: Stage): Promise<{ replayed: string; newest: SampleLogin }> {
  const first = await stage.login();
  const rotated = (await stage.refresh(first.refresh).expect(200)).body as {
    access_token: string;
    refresh_token: string;
  };
  stage.clock.advance(5); // past the (zero) grace period for concurrent refreshes
  return {
    replayed: first.refresh,
    newest: { ...first, access: rotated.access_token, refresh: rotated.refresh_token },
  };
}

/** The cases, as the app authenticates with `auth`: they differ only in how a token failing the JWT check is refused. */
const cases = (auth: SampleAuth): Case[] => [
  ...ACCESS_ROUTES.flatMap(({ method, path }): Case[] => [
    {
      name: 'no token',
      method,
      path,
      token: () => '',
      ...tokenRefused(auth, path, 'No auth token', 'Sign in: this request carries no bearer token'),
    },
    ...Object.entries(forgeries(SAMPLE_JWT.accessSecret)).map(([name, { reason, guard, sign }]): Case => ({
      name: `an access token ${name}`,
      method,
      path,
      token: ({ alice }) => sign(unstamped(alice.access)),
      ...tokenRefused(auth, path, reason, guard),
    })),
    {
      name: 'a refresh token used as an access token',
      method,
      path,
      token: ({ alice }) => alice.refresh,
      ...tokenRefused(auth, path, 'invalid signature', INVALID),
    },
    {
      // What a refresh token would pass for if both tokens shared one secret: the typ claim still tells them apart.
      name: 'refresh claims signed with the access secret',
      method,
      path,
      token: ({ alice }) => jwt.sign(unstamped(alice.refresh), { secret: SAMPLE_JWT.accessSecret, expiresIn: 600 }),
      message: 'Not an access token',
      log: [accessRefused(path, 'Not an access token')],
    },
    {
      name: 'an access token of a deleted user',
      method,
      path,
      token: async (stage) => (await stage.deletedUser()).access,
      message: 'User no longer exists',
      log: [accessRefused(path, 'User no longer exists')],
    },
    {
      name: 'a well-signed access token whose sub is no user id',
      method,
      path,
      token: ({ alice }) =>
        jwt.sign(
          { ...unstamped(alice.access), sub: '99999999999' },
          { secret: SAMPLE_JWT.accessSecret, expiresIn: 600 },
        ),
      message: 'User no longer exists',
      log: [accessRefused(path, 'User no longer exists')],
    },
    {
      name: 'an access token of a logged-out device',
      method,
      path,
      token: async (stage) => {
        const session = await stage.login();
        await stage.logout(session);
        return session.access;
      },
      message: LOGGED_OUT,
      log: [SESSION_REFUSED],
    },
    {
      name: 'the newest access token after its refresh token was reused',
      method,
      path,
      token: async (stage) => {
        const { replayed, newest } = await afterReuse(stage);
        await stage.refresh(replayed).expect(401);
        return newest.access;
      },
      message: LOGGED_OUT,
      log: [SESSION_REFUSED],
    },
  ]),
  ...Object.entries(forgeries(SAMPLE_JWT.refreshSecret)).map(([name, { reason, sign }]): Case => ({
    name: `a refresh token ${name}`,
    ...REFRESH_ROUTE,
    token: ({ alice }) => sign(unstamped(alice.refresh)),
    message: 'Refresh token is invalid or expired',
    log: [refreshRefused(reason)],
  })),
  {
    name: 'an access token used as a refresh token',
    ...REFRESH_ROUTE,
    token: ({ alice }) => alice.access,
    message: 'Refresh token is invalid or expired',
    log: [refreshRefused('invalid signature')],
  },
  {
    name: 'access claims signed with the refresh secret',
    ...REFRESH_ROUTE,
    token: ({ alice }) => jwt.sign(unstamped(alice.access), { secret: SAMPLE_JWT.refreshSecret, expiresIn: 600 }),
    message: 'Not a refresh token',
    log: [refreshRefused('not a refresh token')],
  },
  {
    name: 'a refresh token of a deleted user',
    ...REFRESH_ROUTE,
    token: async (stage) => (await stage.deletedUser()).refresh,
    message: 'User no longer exists',
    log: [refreshRefused(/user \d+ no longer exists/)],
  },
  {
    name: 'a refresh token of a logged-out device',
    ...REFRESH_ROUTE,
    token: async (stage) => {
      const session = await stage.login();
      await stage.logout(session);
      return session.refresh;
    },
    message: REVOKED,
    log: [refreshRefused(`user 1: ${REVOKED}`)],
  },
  {
    name: 'a refresh token replayed after rotation (reuse: logs the device out)',
    ...REFRESH_ROUTE,
    token: async (stage) => (await afterReuse(stage)).replayed,
    message: REVOKED,
    log: [REUSE_DETECTED, refreshRefused(`user 1: ${REVOKED}`)],
  },
  {
    name: 'the newest refresh token after reuse',
    ...REFRESH_ROUTE,
    token: async (stage) => {
      const { replayed, newest } = await afterReuse(stage);
      await stage.refresh(replayed).expect(401);
      return newest.refresh;
    },
    message: REVOKED,
    log: [refreshRefused(`user 1: ${REVOKED}`)],
  },
];

describe.each(SAMPLE_AUTHS)(`tokens the sample app must refuse (auth: %s, ${PLATFORM}, ${TEST_DB})`, (auth) => {
  let app: INestApplication;
  let stage: Stage;
  const logs = new LogCollector();
  const clock = new ManualClock();
  const http = () => request(app.getHttpServer());
  const login = (username = 'alice'): Promise<SampleLogin> => signInToSample(app, username);

  beforeAll(async () => {
    // No grace for concurrent refreshes: a replay a few milliseconds later is reuse.
    app = await startSampleApp({ auth, refreshReuseGraceMs: 0 }, logs, clock);
    const users = app.get<Repository<User>>(getRepositoryToken(User));
    let deleted = 0;
    stage = {
      alice: await login(),
      clock,
      login,
      refresh: (token) => http().post('/auth/refresh').send({ refresh_token: token }),
      logout: async ({ access, deviceId }) => {
        await http().post(`/api/devices/${deviceId}/logout`).auth(access, { type: 'bearer' }).expect(200);
      },
      deletedUser: async () => {
        const username = `gone-${++deleted}`;
        const { id } = await users.save(
          users.create({ username, passwordHash: await hashPassword(`${username}-password`) }),
        );
        const session = await login(username);
        await users.delete({ id });
        return { ...session, id };
      },
    };
  });

  afterAll(() => app?.close());
  beforeEach(() => logs.clear());

  it.each(cases(auth))('$method $path: $name', async ({ method, path, token, message, log }) => {
    const presented = await token(stage);
    logs.clear(); // only what this request logs
    let call = http()[method](path);
    if (presented) call = call.auth(presented, { type: 'bearer' });
    const response = await (method === 'post' ? call.send({ refresh_token: presented }) : call);

    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    // Nest's shape; the stock refusal (`new UnauthorizedException()`) has no `error`.
    const { error, ...rest } = response.body;
    expect(rest).toEqual({ statusCode: 401, message });
    expect([undefined, 'Unauthorized']).toContain(error);
    const wanted = (level: Level) => log.filter((expected) => expected.level === level).map(({ text }) => text);
    expect(logs.lines).toMatchObject({
      warn: expect.arrayContaining(wanted('warn').map((text) => expect.stringMatching(text))),
      debug: expect.arrayContaining(wanted('debug').map((text) => expect.stringMatching(text))),
      error: [],
    });
    // Once per refused access token, and none for a logged-out device's (DeviceSessionGuard's, at debug) or a refresh.
    const accessRefusals = log.filter(({ text }) => text.source.includes('Access token refused')).length;
    expect(logs.lines.warn.filter((logged) => ACCESS_REFUSED.test(logged))).toHaveLength(accessRefusals);
    // The reason, never the token (nor its signature, which is what makes it usable).
    const secrets = [presented, presented.split('.')[2]].filter(Boolean) as string[];
    expect(logs.all().filter((logged) => secrets.some((secret) => logged.includes(secret)))).toEqual([]);
  });

  it('still serves alice with her own tokens: the refusals above were about the tokens, not her', async () => {
    await http().get('/me').auth(stage.alice.access, { type: 'bearer' }).expect(200);
    await stage.refresh(stage.alice.refresh).expect(200);
  });

  it('logs reuse out the whole device: its row is inactive and every token of it is refused', async () => {
    const devices = app.get<Repository<Device>>(getRepositoryToken(Device));
    const { replayed, newest } = await afterReuse(stage);
    await stage.refresh(replayed).expect(401);
    expect(await devices.findOneByOrFail({ id: newest.deviceId })).toMatchObject({ isActive: false });
    await http().get('/me').auth(newest.access, { type: 'bearer' }).expect(401);
    await stage.refresh(newest.refresh).expect(401);
  });
});
