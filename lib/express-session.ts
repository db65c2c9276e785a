import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';

/** The request's express-session id, when the app tracks devices by their express sessions (`sessionStore`). */
export function expressSessionId(
  request: DeviceRequest,
  options: Pick<ResolvedDeviceTrackerOptions, 'sessionStore'>,
): string | undefined {
  return options.sessionStore ? request.sessionID : undefined;
}

/**
 * Destroys the request's own express session, so express-session does not save it back into the store as the
 * response ends. Does nothing when the app does not track express sessions.
 */
export async function destroyExpressSession(
  request: DeviceRequest,
  options: Pick<ResolvedDeviceTrackerOptions, 'sessionStore'>,
): Promise<void> {
  const { session } = request;
  if (options.sessionStore && session) await new Promise<void>((resolve) => session.destroy(() => resolve()));
}
