import { describe, expect, it } from 'vitest';
import { resolveDeviceTrackerOptions } from './device-tracker.options.js';
import { createRevocationNotifier } from './device-tracker.providers.js';
import type { DeviceTrackerModuleOptions } from './interfaces/device-tracker-options.interface.js';
import type { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
import { InMemoryRevocationNotifier } from './revocation/in-memory-revocation-notifier.js';

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
      const given = {
        withoutSession: 'allow',
        sessionCacheSize: 50,
        sessionCacheTtl: 5000,
        revokedSessionTtl: 900_000,
        refreshReuseGrace: 2000,
        lastSeenInterval: 1000,
      } as const;
      expect(resolveDeviceTrackerOptions(given)).toMatchObject(given);
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
