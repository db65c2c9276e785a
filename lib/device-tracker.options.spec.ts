import type { CanActivate } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { describe, expect, it } from 'vitest';
import { defaultRefreshToken, defaultUserId, resolveDeviceTrackerOptions } from './device-tracker.options.js';
import { createRevocationNotifier } from './device-tracker.providers.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import type { DeviceTrackerModuleOptions } from './interfaces/device-tracker-options.interface.js';
import type { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
import { InMemoryRevocationNotifier } from './revocation/in-memory-revocation-notifier.js';

const FOUR_HUNDRED_DAYS_MS = 400 * 24 * 60 * 60 * 1000;

const withUser = (user: unknown): DeviceRequest => ({ headers: {}, user });
const getUserId = (request: DeviceRequest) => (request.user as { uid: string }).uid;
const getRefreshToken = (result: unknown) => (result as { rt: string }).rt;

describe('resolveDeviceTrackerOptions', () => {
  describe('defaults', () => {
    const resolved = resolveDeviceTrackerOptions();

    it('writes an httpOnly-ready cookie named device_id for 400 days on path / with SameSite lax', () => {
      expect(FOUR_HUNDRED_DAYS_MS).toBe(34_560_000_000);
      expect(resolved.deviceIdCookie).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
    });

    it('leaves secure and domain unset so they follow the request', () => {
      expect(resolved.deviceIdCookie).not.toBe(false);
      if (resolved.deviceIdCookie === false) return;
      expect(resolved.deviceIdCookie.secure).toBeUndefined();
      expect(resolved.deviceIdCookie.domain).toBeUndefined();
    });

    it('uses the x-device-id header', () => {
      expect(resolved.deviceIdHeader).toBe('x-device-id');
    });

    it('uses the sid session claim', () => {
      expect(resolved.sessionClaim).toBe('sid');
    });

    it('caches 1000 user agents', () => {
      expect(resolved.userAgentCacheSize).toBe(1000);
    });

    it('uses the default user id and refresh token lookups', () => {
      expect(resolved.getUserId).toBe(defaultUserId);
      expect(resolved.getRefreshToken).toBe(defaultRefreshToken);
    });

    it("uses @nestjs/passport's AuthGuard('jwt') class", () => {
      // AuthGuard() is memoised per strategy, so the default is the very class AuthGuard('jwt') returns.
      expect(typeof resolved.authGuard).toBe('function');
      expect(resolved.authGuard).toBe(AuthGuard('jwt'));
      expect(resolved.authGuard).not.toBe(AuthGuard('local'));
    });

    it('resolves the same defaults from an empty object', () => {
      const fromEmpty = resolveDeviceTrackerOptions({});
      expect(fromEmpty.deviceIdCookie).toEqual(resolved.deviceIdCookie);
      expect(fromEmpty.deviceIdHeader).toBe(resolved.deviceIdHeader);
      expect(fromEmpty.sessionClaim).toBe(resolved.sessionClaim);
      expect(fromEmpty.userAgentCacheSize).toBe(resolved.userAgentCacheSize);
    });

    it('returns a new cookie object each time, so callers cannot change the defaults', () => {
      const first = resolveDeviceTrackerOptions();
      const second = resolveDeviceTrackerOptions();
      expect(first.deviceIdCookie).not.toBe(second.deviceIdCookie);
      if (first.deviceIdCookie) first.deviceIdCookie.name = 'changed';
      expect(resolveDeviceTrackerOptions().deviceIdCookie).toMatchObject({ name: 'device_id' });
    });
  });

  describe('overrides', () => {
    it('merges a partial cookie option with the other defaults', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: { name: 'did' } }).deviceIdCookie).toEqual({
        name: 'did',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
      expect(
        resolveDeviceTrackerOptions({ deviceIdCookie: { secure: true, domain: 'example.com' } }).deviceIdCookie,
      ).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
        secure: true,
        domain: 'example.com',
      });
    });

    it('takes every cookie option given', () => {
      const cookie = {
        name: 'dev',
        maxAge: 60_000,
        sameSite: 'strict',
        path: '/auth',
        secure: false,
        domain: 'example.org',
      } as const;
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: cookie }).deviceIdCookie).toEqual(cookie);
    });

    it('disables the cookie with false', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: false }).deviceIdCookie).toBe(false);
    });

    it('lowercases the header name', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdHeader: 'X-Client-Device' }).deviceIdHeader).toBe('x-client-device');
    });

    it('disables the header with false', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdHeader: false }).deviceIdHeader).toBe(false);
    });

    it('can disable both header and cookie', () => {
      const resolved = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
      expect(resolved.deviceIdHeader).toBe(false);
      expect(resolved.deviceIdCookie).toBe(false);
    });

    it('takes the session claim, cache size and lookups given', () => {
      const resolved = resolveDeviceTrackerOptions({
        sessionClaim: 'session_id',
        userAgentCacheSize: 5,
        getUserId,
        getRefreshToken,
      });
      expect(resolved.sessionClaim).toBe('session_id');
      expect(resolved.userAgentCacheSize).toBe(5);
      expect(resolved.getUserId).toBe(getUserId);
      expect(resolved.getRefreshToken).toBe(getRefreshToken);
    });

    it('takes a guard class or instance given', () => {
      class MyGuard implements CanActivate {
        canActivate() {
          return true;
        }
      }
      expect(resolveDeviceTrackerOptions({ authGuard: MyGuard }).authGuard).toBe(MyGuard);
      const instance = new MyGuard();
      expect(resolveDeviceTrackerOptions({ authGuard: instance }).authGuard).toBe(instance);
    });

    it('falls back to the defaults for options explicitly set to undefined', () => {
      const resolved = resolveDeviceTrackerOptions({
        deviceIdCookie: undefined,
        deviceIdHeader: undefined,
        sessionClaim: undefined,
        userAgentCacheSize: undefined,
      });
      expect(resolved.deviceIdCookie).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
      expect(resolved.deviceIdHeader).toBe('x-device-id');
      expect(resolved.sessionClaim).toBe('sid');
      expect(resolved.userAgentCacheSize).toBe(1000);
    });
  });
});

describe('resolveDeviceTrackerOptions edge cases', () => {
  it('keeps a cookie default when the override is present but undefined', () => {
    const { deviceIdCookie } = resolveDeviceTrackerOptions({ deviceIdCookie: { name: undefined, maxAge: undefined } });
    expect(deviceIdCookie).toMatchObject({ name: 'device_id', maxAge: 400 * 24 * 60 * 60 * 1000 });
  });

  it('accepts a user agent cache size of 0 and refuses a negative or fractional one', () => {
    expect(resolveDeviceTrackerOptions({ userAgentCacheSize: 0 }).userAgentCacheSize).toBe(0);
    expect(() => resolveDeviceTrackerOptions({ userAgentCacheSize: -1 })).toThrow(/userAgentCacheSize/);
    expect(() => resolveDeviceTrackerOptions({ userAgentCacheSize: 1.5 })).toThrow(/userAgentCacheSize/);
  });
});

describe('resolveDeviceTrackerOptions checks', () => {
  it.each([
    [{ deviceIdCookie: { name: 'bad name' } }, /deviceIdCookie.name/],
    [{ deviceIdCookie: { name: 'a;b' } }, /deviceIdCookie.name/],
    [{ deviceIdCookie: { maxAge: Number.NaN } }, /deviceIdCookie.maxAge/],
    [{ deviceIdCookie: { maxAge: -1 } }, /deviceIdCookie.maxAge/],
    [{ deviceIdCookie: { sameSite: 'none', secure: false } }, /needs secure/],
    [{ deviceIdHeader: 'x device' }, /deviceIdHeader/],
    [{ deviceIdHeader: '' }, /deviceIdHeader/],
  ] as const)('refuses %j at start-up', (options, message) => {
    expect(() => resolveDeviceTrackerOptions(options)).toThrow(message);
  });

  it('makes a SameSite=None cookie Secure, since browsers drop it otherwise', () => {
    expect(resolveDeviceTrackerOptions({ deviceIdCookie: { sameSite: 'none' } }).deviceIdCookie).toMatchObject({
      sameSite: 'none',
      secure: true,
    });
  });
});

describe('defaultUserId', () => {
  it('reads user.id first', () => {
    expect(defaultUserId(withUser({ id: 'u-1', sub: 'u-2', userId: 'u-3' }))).toBe('u-1');
  });

  it('falls back to user.sub', () => {
    expect(defaultUserId(withUser({ sub: 'auth0|123', userId: 'u-3' }))).toBe('auth0|123');
  });

  it('falls back to user.userId', () => {
    expect(defaultUserId(withUser({ userId: 99 }))).toBe(99);
  });

  it('skips id and sub set to null or undefined', () => {
    expect(defaultUserId(withUser({ id: null, sub: undefined, userId: 'u-3' }))).toBe('u-3');
  });

  it('returns numeric ids as numbers', () => {
    expect(defaultUserId(withUser({ id: 42 }))).toBe(42);
    expect(defaultUserId(withUser({ id: 0 }))).toBe(0);
  });

  it('ignores ids that are neither strings nor numbers', () => {
    expect(defaultUserId(withUser({ id: { value: 1 } }))).toBeUndefined();
    expect(defaultUserId(withUser({ id: true }))).toBeUndefined();
    expect(defaultUserId(withUser({ sub: ['a'] }))).toBeUndefined();
    expect(defaultUserId(withUser({ userId: 10n }))).toBeUndefined();
  });

  it('falls back past an unusable id to the next field', () => {
    expect(defaultUserId(withUser({ id: '', sub: 'abc' }))).toBe('abc');
    expect(defaultUserId(withUser({ id: {}, sub: 'abc' }))).toBe('abc');
  });

  it('returns undefined when there is no user', () => {
    expect(defaultUserId({ headers: {} })).toBeUndefined();
    expect(defaultUserId(withUser(null))).toBeUndefined();
    expect(defaultUserId(withUser('alice'))).toBeUndefined();
    expect(defaultUserId(withUser({}))).toBeUndefined();
  });
});

describe('defaultRefreshToken', () => {
  it('reads refresh_token', () => {
    expect(defaultRefreshToken({ access_token: 'a', refresh_token: 'r1' })).toBe('r1');
  });

  it('reads refreshToken', () => {
    expect(defaultRefreshToken({ accessToken: 'a', refreshToken: 'r2' })).toBe('r2');
  });

  it('prefers refresh_token over refreshToken', () => {
    expect(defaultRefreshToken({ refresh_token: 'snake', refreshToken: 'camel' })).toBe('snake');
    expect(defaultRefreshToken({ refresh_token: null, refreshToken: 'camel' })).toBe('camel');
  });

  it('returns undefined for a token that is not a string', () => {
    expect(defaultRefreshToken({ refresh_token: 123 })).toBeUndefined();
    expect(defaultRefreshToken({ refreshToken: { token: 'r' } })).toBeUndefined();
  });

  it('returns undefined when the result holds no token', () => {
    expect(defaultRefreshToken({ access_token: 'a' })).toBeUndefined();
    expect(defaultRefreshToken({})).toBeUndefined();
  });

  it('returns undefined for results that are not objects', () => {
    expect(defaultRefreshToken(undefined)).toBeUndefined();
    expect(defaultRefreshToken(null)).toBeUndefined();
    expect(defaultRefreshToken('refresh-token')).toBeUndefined();
    expect(defaultRefreshToken(42)).toBeUndefined();
  });
});

/** A notifier missing one of the methods of RevocationNotifier. */
function notifierWithout(method: keyof RevocationNotifier): RevocationNotifier {
  const notifier: Record<string, unknown> = {
    publish: async () => undefined,
    subscribe: async () => undefined,
    isListening: () => true,
    close: async () => undefined,
  };
  delete notifier[method];
  return notifier as unknown as RevocationNotifier;
}

describe('resolveDeviceTrackerOptions: sessions, revocation and limits', () => {
  describe('defaults', () => {
    const resolved = resolveDeviceTrackerOptions();

    it('refuses tokens without a session claim', () => {
      expect(resolved.withoutSession).toBe('deny');
    });

    it('caches 10000 sessions, active ones for 30 s and revoked ones for an hour', () => {
      expect(resolved.sessionCacheSize).toBe(10_000);
      expect(resolved.sessionCacheTtl).toBe(30_000);
      expect(resolved.revokedSessionTtl).toBe(3_600_000);
    });

    it('accepts a replaced refresh token for 10 s and records lastSeenAt at most once a minute', () => {
      expect(resolved.refreshReuseGrace).toBe(10_000);
      expect(resolved.lastSeenInterval).toBe(60_000);
    });

    it('caps no devices and knows no session store', () => {
      expect(resolved.maxDevices).toBeUndefined();
      expect(resolved.sessionStore).toBeUndefined();
    });

    it('announces revocations in memory, with a new notifier for each module', async () => {
      const notifier = await createRevocationNotifier({});
      expect(notifier).toBeInstanceOf(InMemoryRevocationNotifier);
      expect(await createRevocationNotifier({})).not.toBe(notifier);
    });

    it('resolves the same defaults for options explicitly set to undefined', async () => {
      const fromUndefined = resolveDeviceTrackerOptions({
        withoutSession: undefined,
        sessionCacheSize: undefined,
        sessionCacheTtl: undefined,
        revokedSessionTtl: undefined,
        revocationNotifier: undefined,
        refreshReuseGrace: undefined,
        lastSeenInterval: undefined,
        maxDevices: undefined,
        sessionStore: undefined,
      });
      expect(fromUndefined).toMatchObject({
        withoutSession: 'deny',
        sessionCacheSize: 10_000,
        sessionCacheTtl: 30_000,
        revokedSessionTtl: 3_600_000,
        refreshReuseGrace: 10_000,
        lastSeenInterval: 60_000,
        maxDevices: undefined,
        sessionStore: undefined,
      });
      expect(await createRevocationNotifier({ revocationNotifier: undefined })).toBeInstanceOf(
        InMemoryRevocationNotifier,
      );
    });
  });

  describe('overrides', () => {
    it('takes every value given', () => {
      const resolved = resolveDeviceTrackerOptions({
        withoutSession: 'allow',
        sessionCacheSize: 50,
        sessionCacheTtl: 5000,
        revokedSessionTtl: 900_000,
        refreshReuseGrace: 2000,
        lastSeenInterval: 1000,
      });
      expect(resolved).toMatchObject({
        withoutSession: 'allow',
        sessionCacheSize: 50,
        sessionCacheTtl: 5000,
        revokedSessionTtl: 900_000,
        refreshReuseGrace: 2000,
        lastSeenInterval: 1000,
      });
    });

    it('accepts 0 for the cache size, the cache lifetime and the reuse grace', () => {
      const resolved = resolveDeviceTrackerOptions({ sessionCacheSize: 0, sessionCacheTtl: 0, refreshReuseGrace: 0 });
      expect(resolved.sessionCacheSize).toBe(0);
      expect(resolved.sessionCacheTtl).toBe(0);
      expect(resolved.refreshReuseGrace).toBe(0);
    });

    it('accepts lastSeenInterval: false to record only logins and refreshes', () => {
      expect(resolveDeviceTrackerOptions({ lastSeenInterval: false }).lastSeenInterval).toBe(false);
    });

    it('defaults the maxDevices policy to evict-oldest', () => {
      expect(resolveDeviceTrackerOptions({ maxDevices: { limit: 3 } }).maxDevices).toEqual({
        limit: 3,
        policy: 'evict-oldest',
      });
    });

    it('takes the reject policy and a limit of 1', () => {
      expect(resolveDeviceTrackerOptions({ maxDevices: { limit: 1, policy: 'reject' } }).maxDevices).toEqual({
        limit: 1,
        policy: 'reject',
      });
    });

    it('uses the revocation notifier given, as it is', async () => {
      const notifier: RevocationNotifier = {
        publish: async () => undefined,
        subscribe: async () => undefined,
        isListening: () => true,
        close: async () => undefined,
      };
      expect(resolveDeviceTrackerOptions({ revocationNotifier: notifier })).not.toHaveProperty('revocationNotifier');
      expect(await createRevocationNotifier({ revocationNotifier: notifier })).toBe(notifier);
    });

    it('uses the session store given, as it is', () => {
      const store = { destroy: (_id: string, callback: (error?: unknown) => void) => callback() };
      expect(resolveDeviceTrackerOptions({ sessionStore: store }).sessionStore).toBe(store);
    });
  });

  describe('checks', () => {
    it.each<[string, DeviceTrackerModuleOptions, RegExp]>([
      ['a negative sessionCacheSize', { sessionCacheSize: -1 }, /sessionCacheSize must be a whole number >= 0/],
      ['a fractional sessionCacheSize', { sessionCacheSize: 2.5 }, /sessionCacheSize/],
      ['a NaN sessionCacheSize', { sessionCacheSize: Number.NaN }, /sessionCacheSize/],
      ['a negative sessionCacheTtl', { sessionCacheTtl: -1 }, /sessionCacheTtl must be a whole number >= 0/],
      ['a fractional sessionCacheTtl', { sessionCacheTtl: 0.5 }, /sessionCacheTtl/],
      ['an infinite sessionCacheTtl', { sessionCacheTtl: Number.POSITIVE_INFINITY }, /sessionCacheTtl/],
      ['a negative revokedSessionTtl', { revokedSessionTtl: -1 }, /revokedSessionTtl must be a whole number >= 1/],
      ['a zero revokedSessionTtl', { revokedSessionTtl: 0 }, /revokedSessionTtl must be a whole number >= 1/],
      ['a fractional revokedSessionTtl', { revokedSessionTtl: 1.5 }, /revokedSessionTtl/],
      ['a negative refreshReuseGrace', { refreshReuseGrace: -1 }, /refreshReuseGrace must be a whole number >= 0/],
      ['a fractional refreshReuseGrace', { refreshReuseGrace: 10.5 }, /refreshReuseGrace/],
      ['a lastSeenInterval under 1000', { lastSeenInterval: 999 }, /lastSeenInterval must be a whole number >= 1000/],
      ['a zero lastSeenInterval', { lastSeenInterval: 0 }, /lastSeenInterval/],
      ['a negative lastSeenInterval', { lastSeenInterval: -60_000 }, /lastSeenInterval/],
      ['a fractional lastSeenInterval', { lastSeenInterval: 1500.5 }, /lastSeenInterval/],
      ['lastSeenInterval: true', { lastSeenInterval: true as unknown as number }, /lastSeenInterval/],
      [
        "withoutSession: 'maybe'",
        { withoutSession: 'maybe' as 'allow' },
        /withoutSession must be one of deny, allow \(got maybe\)/,
      ],
      ['a maxDevices limit of 0', { maxDevices: { limit: 0 } }, /maxDevices.limit must be a whole number >= 1/],
      ['a negative maxDevices limit', { maxDevices: { limit: -2 } }, /maxDevices.limit/],
      ['a fractional maxDevices limit', { maxDevices: { limit: 1.5 } }, /maxDevices.limit/],
      ['a maxDevices without limit', { maxDevices: {} as { limit: number } }, /maxDevices.limit/],
      [
        "maxDevices policy 'x'",
        { maxDevices: { limit: 2, policy: 'x' as 'reject' } },
        /maxDevices.policy must be one of evict-oldest, reject \(got x\)/,
      ],
      [
        'a revocationNotifier without publish',
        { revocationNotifier: notifierWithout('publish') },
        /revocationNotifier/,
      ],
      [
        'a revocationNotifier without subscribe',
        { revocationNotifier: notifierWithout('subscribe') },
        /revocationNotifier/,
      ],
      // The message promises all four methods; without isListening every guarded request would answer 503, and
      // without close the app would fail to shut down.
      [
        'a revocationNotifier without isListening',
        { revocationNotifier: notifierWithout('isListening') },
        /revocationNotifier/,
      ],
      ['a revocationNotifier without close', { revocationNotifier: notifierWithout('close') }, /revocationNotifier/],
      [
        'a sessionStore without destroy',
        { sessionStore: {} as never },
        /sessionStore must be an express-session store \(it has no destroy method\)/,
      ],
      ['a null sessionStore', { sessionStore: null as never }, /sessionStore/],
    ])('refuses %s at start-up, naming the option', (_label, options, message) => {
      expect(() => resolveDeviceTrackerOptions(options)).toThrow(message);
      expect(() => resolveDeviceTrackerOptions(options)).toThrow(/^DeviceTrackerModule: /);
    });
  });
});

describe('prune schedule bounds', () => {
  it('refuses an interval Node timers cannot wait, which would fire at once', () => {
    expect(() => resolveDeviceTrackerOptions({ prune: { inactiveFor: 1000, every: 2 ** 31 } })).toThrow(
      /prune\.every must be at most 2147483647/,
    );
    expect(resolveDeviceTrackerOptions({ prune: { inactiveFor: 1000, every: 2 ** 31 - 1 } }).prune?.every).toBe(
      2 ** 31 - 1,
    );
  });

  it('refuses a batch larger than one statement can carry', () => {
    expect(() => resolveDeviceTrackerOptions({ prune: { inactiveFor: 1000, batchSize: 10_001 } })).toThrow(
      /prune\.batchSize must be at most 10000/,
    );
  });
});
