import { Injectable } from '@nestjs/common';
import type { SessionRef } from '../http/device-session.js';
import { DeviceStore } from '../persistence/device.store.js';
import { requireUserId, type UserId } from '../values/user-id.js';
import { SessionCache } from './session-cache.js';

/** Answers whether a login session is still active, from this instance's cache when it can. */
@Injectable()
export class SessionVerifier {
  constructor(
    private readonly store: DeviceStore,
    private readonly sessions: SessionCache,
  ) {}

  /**
   * The device of the session, or `undefined` when the session was logged out, replaced by a newer login of its
   * device, or is not this user's.
   *
   * @throws the database's error when the answer is not cached and the database cannot be asked.
   */
  async verify(sessionId: string, userId: UserId): Promise<SessionRef | undefined> {
    const owner = requireUserId(userId);
    const cached = this.sessions.get(sessionId);
    if (cached === 'revoked') return undefined;
    if (cached) return cached.userId === owner ? { deviceId: cached.deviceId, sessionId } : undefined;

    const device = await this.store.sessionRow(sessionId);
    // Exact comparison: MySQL's default collation would match a session id that differs only in case.
    if (!device || device.sessionId !== sessionId) return undefined;
    if (!device.isActive) {
      this.sessions.revoked([sessionId]);
      return undefined;
    }
    this.sessions.remember(sessionId, { deviceId: device.id, userId: device.userId });
    return device.userId === owner ? { deviceId: device.id, sessionId } : undefined;
  }

  /** Whether this instance knows the session to be logged out. */
  isRevoked(sessionId: string): boolean {
    return this.sessions.get(sessionId) === 'revoked';
  }
}
