import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { getDeviceSession } from '../http/device-session.js';

/**
 * The {@link DeviceSession} of the request: on a `@TrackDevice()` login route, the device and session this login
 * is about to be recorded as (put `sessionId` into both tokens as the `sid` claim); on a route behind
 * `DeviceSessionGuard`, the device and session the token was verified against. `undefined` elsewhere.
 *
 * @example
 * login(@Req() request, @CurrentDevice() device: DeviceSession) {
 *   return this.auth.issueTokens(request.user, { sid: device.sessionId });
 * }
 */
export const CurrentDevice = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  getDeviceSession(context.switchToHttp().getRequest<object>()),
);
