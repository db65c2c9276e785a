import { beforeEach, describe, expect, it } from 'vitest';
import { createRevocationNotifier } from '../device-tracker.providers.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import { type Clock, systemClock } from '../interfaces/clock.interface.js';
import type { DeviceTrackerModuleOptions } from '../interfaces/device-tracker-options.interface.js';
import type { RevocationListener, RevocationNotifier } from '../interfaces/revocation-notifier.interface.js';
import { InMemoryRevocationNotifier } from '../revocation/in-memory-revocation-notifier.js';
import { withClaims } from '../http/device-session.js';
import { SessionCache } from './session-cache.js';

const ALICE = { userId: 'alice', session: withClaims({ deviceId: 'device-a', sessionId: 's1' }, 'sid') };
const BOB = { userId: 'bob', session: withClaims({ deviceId: 'device-b', sessionId: 's2' }, 'sid') };

/** A notifier whose listening state the test controls, and which records what the cache does with it. */
class FakeNotifier implements RevocationNotifier {
  listening = true;
  readonly listeners: RevocationListener[] = [];
  closed = 0;

  async publish(sessionIds: string[]): Promise<void> {
    for (const listener of this.listeners) listener.revoked(sessionIds);
  }

  async subscribe(listener: RevocationListener): Promise<void> {
    this.listeners.push(listener);
  }

  isListening(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function cacheWith(
  options: DeviceTrackerModuleOptions = {},
  clock: Clock = systemClock,
): { cache: SessionCache; notifier: FakeNotifier } {
  const notifier = new FakeNotifier();
  const cache = new SessionCache(resolveDeviceTrackerOptions(options), notifier, clock);
  return { cache, notifier };
}

describe('SessionCache', () => {
  describe('active sessions', () => {
    it('answers undefined for a session it has never seen, so the database is asked', () => {
      const { cache } = cacheWith();
      expect(cache.get('unknown')).toBeUndefined();
    });

    it('remembers an active session with its device and user', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.remember('s2', BOB);
      expect(cache.get('s1')).toEqual(ALICE);
      expect(cache.get('s2')).toEqual(BOB);
    });

    it('keeps no more active sessions than sessionCacheSize, dropping the least recently used', () => {
      const { cache } = cacheWith({ sessionCacheSize: 2 });
      cache.remember('s1', ALICE);
      cache.remember('s2', ALICE);
      expect(cache.get('s1')).toEqual(ALICE);
      cache.remember('s3', ALICE);
      expect(cache.get('s1')).toEqual(ALICE);
      expect(cache.get('s2')).toBeUndefined();
      expect(cache.get('s3')).toEqual(ALICE);
    });

    it('caches no active session with sessionCacheTtl: 0', () => {
      const { cache } = cacheWith({ sessionCacheTtl: 0 });
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toBeUndefined();
    });

    it('caches no active session with sessionCacheSize: 0, but still refuses revoked ones', () => {
      const { cache } = cacheWith({ sessionCacheSize: 0 });
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toBeUndefined();
      cache.revoked(['s2']);
      expect(cache.get('s2')).toBe('revoked');
    });

    it('with sessionCacheTtl: 0 still remembers revoked sessions', () => {
      const { cache } = cacheWith({ sessionCacheTtl: 0 });
      cache.revoked(['s1']);
      expect(cache.get('s1')).toBe('revoked');
    });
  });

  describe('revoked sessions', () => {
    it('answers revoked for a revoked session, even one it never saw as active', () => {
      const { cache } = cacheWith();
      cache.revoked(['never-seen']);
      expect(cache.get('never-seen')).toBe('revoked');
    });

    it('turns a remembered active session into a revoked one', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.remember('s2', BOB);
      cache.revoked(['s1']);
      expect(cache.get('s1')).toBe('revoked');
      expect(cache.get('s2')).toEqual(BOB);
    });

    it('revokes every session of one announcement', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.remember('s2', BOB);
      cache.revoked(['s1', 's2', 's3']);
      expect(['s1', 's2', 's3'].map((id) => cache.get(id))).toEqual(['revoked', 'revoked', 'revoked']);
    });

    it('lets a revocation win over a later remember of the same session (a racing database read)', () => {
      const { cache } = cacheWith();
      // The guard read the device as active, a logout landed meanwhile, then the guard stores what it read.
      cache.revoked(['s1']);
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toBe('revoked');
    });

    it('ignores an empty announcement', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.revoked([]);
      expect(cache.get('s1')).toEqual(ALICE);
    });
  });

  describe('resync', () => {
    it('forgets the active sessions but not the revoked ones', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.revoked(['s2']);
      cache.resync();
      expect(cache.get('s1')).toBeUndefined();
      expect(cache.get('s2')).toBe('revoked');
    });

    it('lets sessions be remembered again afterwards', () => {
      const { cache } = cacheWith();
      cache.remember('s1', ALICE);
      cache.resync();
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toEqual(ALICE);
    });
  });

  describe('while the notifier is not listening', () => {
    it('answers undefined for active sessions, so every check goes to the database', () => {
      const { cache, notifier } = cacheWith();
      cache.remember('s1', ALICE);
      notifier.listening = false;
      expect(cache.get('s1')).toBeUndefined();
    });

    it('still answers revoked for revoked sessions', () => {
      const { cache, notifier } = cacheWith();
      cache.revoked(['s1']);
      notifier.listening = false;
      expect(cache.get('s1')).toBe('revoked');
    });

    it('answers from memory again once the notifier listens again', () => {
      const { cache, notifier } = cacheWith();
      notifier.listening = false;
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toBeUndefined();
      notifier.listening = true;
      expect(cache.get('s1')).toEqual(ALICE);
    });
  });

  describe('lifetimes', () => {
    // The cache reads the injected clock, which the test moves on.
    let time = 0;
    const clock: Clock = { now: () => time };
    const advance = (ms: number) => {
      time += ms;
    };

    beforeEach(() => {
      time = 1_000_000;
    });

    it('trusts an active session for sessionCacheTtl, then asks the database again', () => {
      const { cache } = cacheWith({ sessionCacheTtl: 1000 }, clock);
      cache.remember('s1', ALICE);
      advance(999);
      expect(cache.get('s1')).toEqual(ALICE);
      advance(2);
      expect(cache.get('s1')).toBeUndefined();
    });

    it('uses 30 seconds for active sessions by default', () => {
      const { cache } = cacheWith({}, clock);
      cache.remember('s1', ALICE);
      advance(29_999);
      expect(cache.get('s1')).toEqual(ALICE);
      advance(2);
      expect(cache.get('s1')).toBeUndefined();
    });

    it('remembers a revoked session for revokedSessionTtl, well past sessionCacheTtl', () => {
      const { cache } = cacheWith({ sessionCacheTtl: 1000, revokedSessionTtl: 5000 }, clock);
      cache.revoked(['s1']);
      advance(4999);
      expect(cache.get('s1')).toBe('revoked');
      advance(2);
      expect(cache.get('s1')).toBeUndefined();
    });

    it('uses one hour for revoked sessions by default', () => {
      const { cache } = cacheWith({}, clock);
      cache.revoked(['s1']);
      advance(60 * 60 * 1000 - 1);
      expect(cache.get('s1')).toBe('revoked');
      advance(2);
      expect(cache.get('s1')).toBeUndefined();
    });

    it('lets a session be remembered as active once its revocation has been forgotten', () => {
      const { cache } = cacheWith({ revokedSessionTtl: 1000 }, clock);
      cache.revoked(['s1']);
      advance(1001);
      cache.remember('s1', ALICE);
      expect(cache.get('s1')).toEqual(ALICE);
    });

    it('does not extend an active session by reading it', () => {
      const { cache } = cacheWith({ sessionCacheTtl: 1000 }, clock);
      cache.remember('s1', ALICE);
      advance(600);
      expect(cache.get('s1')).toEqual(ALICE);
      advance(600);
      expect(cache.get('s1')).toBeUndefined();
    });
  });

  describe('module lifecycle', () => {
    it('subscribes itself to the notifier when the module starts', async () => {
      const { cache, notifier } = cacheWith();
      expect(notifier.listeners).toEqual([]);
      await cache.onModuleInit();
      expect(notifier.listeners).toEqual([cache]);
    });

    it('hears the revocations published through the notifier once subscribed', async () => {
      const { cache, notifier } = cacheWith();
      await cache.onModuleInit();
      cache.remember('s1', ALICE);
      await notifier.publish(['s1']);
      expect(cache.get('s1')).toBe('revoked');
    });

    it('is revoked through the default in-memory notifier', async () => {
      const notifier = await createRevocationNotifier({});
      expect(notifier).toBeInstanceOf(InMemoryRevocationNotifier);
      const cache = new SessionCache(resolveDeviceTrackerOptions(), notifier, systemClock);
      await cache.onModuleInit();
      cache.remember('s1', ALICE);
      await notifier.publish(['s1']);
      expect(cache.get('s1')).toBe('revoked');
    });

    it('closes the notifier when the module stops', async () => {
      const { cache, notifier } = cacheWith();
      await cache.onModuleInit();
      expect(notifier.closed).toBe(0);
      await cache.onModuleDestroy();
      expect(notifier.closed).toBe(1);
    });
  });
});
