import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { DeviceSession } from '../http/device-session.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import { type RevocationListener, RevocationNotifier } from '../interfaces/revocation-notifier.interface.js';
import { lifetimesOn } from './lru-clock.js';

/** A session known to be active, whose it is, and the device session its requests are handed. */
export interface CachedSession {
  userId: string;
  session: DeviceSession;
}

/**
 * This instance's memory of sessions: the active ones for `sessionCacheTtl`, the logged-out ones for
 * `revokedSessionTtl`. A session never comes back once logged out (a new login makes a new one), so a revocation
 * always wins: a database answer that raced with it cannot mark the session active again.
 */
@Injectable()
export class SessionCache implements RevocationListener, OnModuleInit, OnModuleDestroy {
  private readonly active: LRUCache<string, CachedSession> | undefined;
  private readonly revokedIds: LRUCache<string, true>;

  constructor(
    @Inject(DEVICE_TRACKER_OPTIONS) options: ResolvedDeviceTrackerOptions,
    @Inject(RevocationNotifier) private readonly notifier: RevocationNotifier,
    @Inject(DeviceTrackerClock) clock: Clock,
  ) {
    const lifetimes = { max: Math.max(options.sessionCacheSize, 1), ...lifetimesOn(clock) };
    this.active =
      options.sessionCacheTtl > 0 && options.sessionCacheSize > 0
        ? new LRUCache({ ...lifetimes, ttl: options.sessionCacheTtl })
        : undefined;
    this.revokedIds = new LRUCache({ ...lifetimes, ttl: options.revokedSessionTtl });
  }

  onModuleInit(): Promise<void> {
    return this.notifier.subscribe(this);
  }

  onModuleDestroy(): Promise<void> {
    return this.notifier.close();
  }

  /**
   * `'revoked'` when the session is known to be logged out, the session when it is known to be active and the
   * notifier is delivering announcements, `undefined` when the database must be asked.
   */
  get(sessionId: string): CachedSession | 'revoked' | undefined {
    if (this.revokedIds.has(sessionId)) return 'revoked';
    return this.notifier.isListening() ? this.active?.get(sessionId) : undefined;
  }

  remember(sessionId: string, session: CachedSession): void {
    if (!this.revokedIds.has(sessionId)) this.active?.set(sessionId, session);
  }

  revoked(sessionIds: string[]): void {
    for (const sessionId of sessionIds) {
      this.active?.delete(sessionId);
      this.revokedIds.set(sessionId, true);
    }
  }

  resync(): void {
    this.active?.clear();
  }
}
