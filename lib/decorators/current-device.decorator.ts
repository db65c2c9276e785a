import { createParamDecorator, type ExecutionContext, InternalServerErrorException, Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';
import { getDeviceSession, isSessionLookedAt } from '../http/device-session.js';

/** What `@CurrentDevice()` answers where the module never looks: the handler would otherwise read `undefined`. */
const MISPLACED =
  '@CurrentDevice() is used on a route where the module knows no device: use it on a @TrackDevice() login or a ' +
  "@TrackRefresh() refresh route, or behind DeviceSessionGuard or the module's sessionCheck: 'app'";

/**
 * The {@link DeviceSession} of the request: on a `@TrackDevice()` login route, the device and session this login
 * is about to be recorded as (spread `device.claims` into both tokens); on a `@TrackRefresh()` route, those of the
 * refresh token presented; behind `DeviceSessionGuard` (or `sessionCheck: 'app'`), the ones the token was verified
 * against, or `undefined` when it was let through unchecked; `undefined` on a route nobody signed in to. On an
 * authenticated route the module never looked at, a handler could only read `undefined`: it answers 500 with a message
 * that says where to put it.
 *
 * @example
 * login(@Req() request, @CurrentDevice() device: DeviceSession) {
 *   return this.auth.issueTokens({ sub: request.user.id, ...device.claims });
 * }
 */
export const CurrentDevice = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<{ user?: unknown } | undefined>();
  if (!request) return undefined;
  const session = getDeviceSession(request);
  // Without a user (a public route) no device can be known: that is an answer, not a misplaced decorator.
  if (session || isSessionLookedAt(request) || request.user === undefined || request.user === null) return session;
  new Logger(LOGGER_CONTEXT).error(MISPLACED);
  throw new InternalServerErrorException(MISPLACED);
});
