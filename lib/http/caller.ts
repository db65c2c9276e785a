import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { SESSION_CHECK_UNAVAILABLE } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { SessionVerifier } from '../sessions/session-verifier.js';
import { currentDeviceId } from './device-id.js';
import { getCaller, getDeviceSession } from './device-session.js';
import { destroyRequestSession, requestSessionId } from './request-session.js';

/** Who calls one of the module's endpoints, read once from the request and from what its guards found in it. */
export interface Caller {
  /** The authenticated user's id, as the session guard found it. */
  userId: string;
  /** The device the request comes from: its verified session's, else the one it presents (header or cookie). */
  deviceId?: string;
  /** Its express-session or @fastify/session id, when the app tracks devices by their sessions. */
  requestSessionId?: string;
}

/**
 * Refuses, with 503, a request that claims a session the session guard did not verify. With
 * `whenSessionCheckFails: 'allow'` the guard lets such a request through while the database is unreachable, but the
 * module's own endpoints never act for a device that may have been logged out.
 */
export function requireCheckedSession(request: DeviceRequest): void {
  if (getCaller(request)?.claimedSessionId && !getDeviceSession(request)) {
    throw new ServiceUnavailableException(SESSION_CHECK_UNAVAILABLE);
  }
}

/** The caller of one of the module's endpoints, which its session guard has read. */
export function readCaller(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): Caller {
  const found = getCaller(request);
  if (!found) throw new UnauthorizedException('The authenticated user has no id');
  requireCheckedSession(request);
  return {
    userId: found.userId,
    deviceId: currentDeviceId(request, options),
    requestSessionId: requestSessionId(request, options),
  };
}

/**
 * Destroys the request's own session when a logout it made has ended it. The store copy is gone already, but
 * express-session would save the request's session back into the store as the response ends.
 */
export async function endSessionIfLoggedOut(
  request: DeviceRequest,
  caller: Caller,
  sessions: SessionVerifier,
  options: ResolvedDeviceTrackerOptions,
): Promise<void> {
  const sessionId = caller.requestSessionId;
  if (sessionId && sessions.isRevoked(sessionId)) await destroyRequestSession(request, options);
}
