import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

/**
 * The request's session id, when the app tracks devices by their sessions (`sessionStore`): express-session's
 * `request.sessionID`, or @fastify/session's `request.session.sessionId`.
 */
export function requestSessionId(
  request: DeviceRequest,
  options: Pick<ResolvedDeviceTrackerOptions, 'sessionStore'>,
): string | undefined {
  return options.sessionStore ? (request.sessionID ?? request.session?.sessionId) : undefined;
}

/**
 * Destroys the request's own session, so the session middleware does not save it back into the store as the
 * response ends. Does nothing when the app does not track sessions.
 */
export async function destroyRequestSession(
  request: DeviceRequest,
  options: Pick<ResolvedDeviceTrackerOptions, 'sessionStore'>,
): Promise<void> {
  const { session } = request;
  if (options.sessionStore && session) await new Promise<void>((resolve) => session.destroy(() => resolve()));
}
