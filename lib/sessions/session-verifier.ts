import { Inject, Injectable } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { type DeviceSession, withClaims } from '../http/device-session.js';
import { DeviceStore } from '../persistence/device.store.js';
import { requireUserId, type UserId } from '../values/user-id.js';
import { SessionCache } from './session-cache.js';

/** Answers whether a login session is still active, from this instance's cache when it can. */
@Injectable()
export class SessionVerifier {
  constructor(
    private readonly store: DeviceStore,
    private readonly sessions: SessionCache,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /**
   * The answer this instance already knows, without waiting: the session's device, `null` when the session is
   * logged out or not this user's, `undefined` when the database must be asked ({@link verify}). Most requests of a
   * busy app are answered here, so it allocates nothing: the device session is built once per cached session.
   */
  cached(sessionId: string, owner: string): DeviceSession | null | undefined {
    const cached = this.sessions.get(sessionId);
    if (cached === undefined) return undefined;
    if (cached === 'revoked') return null;
    return cached.userId === owner ? cached.session : null;
  }

  /**
   * The device of the session, or `undefined` when the session was logged out, replaced by a newer login of its
   * device, or is not this user's.
   *
   * @throws the database's error when the answer is not cached and the database cannot be asked.
   */
  async verify(sessionId: string, userId: UserId): Promise<DeviceSession | undefined> {
    const owner = requireUserId(userId);
    const known = this.cached(sessionId, owner);
    if (known !== undefined) return known ?? undefined;

    const device = await this.store.sessionRow(sessionId);
    // Exact comparison: MySQL's default collation would match a session id that differs only in case.
    if (!device || device.sessionId !== sessionId) return undefined;
    if (!device.isActive) {
      this.sessions.revoked([sessionId]);
      return undefined;
    }
    // Shared by every request of the session while it is cached: frozen, so no handler can change it for another.
    const session = Object.freeze(withClaims({ deviceId: device.id, sessionId }, this.options.sessionClaim));
    this.sessions.remember(sessionId, { userId: device.userId, session });
    return device.userId === owner ? session : undefined;
  }

  /** Whether this instance knows the session to be logged out. */
  isRevoked(sessionId: string): boolean {
    return this.sessions.get(sessionId) === 'revoked';
  }
}
