import { ServiceUnavailableException } from '@nestjs/common';
import { claimedSessionId } from './session-claim.js';
import { getDeviceSession } from './device-session.js';
import { SESSION_CHECK_UNAVAILABLE } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

/**
 * Refuses, with 503, a request that claims a session `DeviceSessionGuard` did not verify. With
 * `whenSessionCheckFails: 'allow'` the guard lets such a request through while the database is unreachable, but the
 * module's own endpoints never act for a device that may have been logged out.
 */
export function requireCheckedSession(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): void {
  if (claimedSessionId(request, options) && !getDeviceSession(request)) {
    throw new ServiceUnavailableException(SESSION_CHECK_UNAVAILABLE);
  }
}
