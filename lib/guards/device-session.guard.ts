import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { claimedSessionId } from '../http/device-id.js';
import { setDeviceSession, type DeviceSession } from '../http/device-session.js';
import {
  DEVICE_TRACKER_OPTIONS,
  LOGGER_CONTEXT,
  SESSION_CHECK_UNAVAILABLE,
  SKIP_DEVICE_SESSION_METADATA,
} from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { DeviceService } from '../device.service.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { type FinishingResponse, LastSeenRecorder } from '../sessions/last-seen-recorder.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import { normaliseUserId } from '../values/user-id.js';

/**
 * Refuses, with 401, requests whose device has been logged out: put it after your authentication guard, on a
 * route, a controller, or the whole app (`APP_GUARD`, registered after an app-wide authentication guard: Nest runs
 * global guards before route guards), and exempt routes with `@SkipDeviceSession()`. It checks, it does not
 * authenticate: a request without `request.user` passes untouched, for your authentication guard to judge. HTTP
 * only: other contexts (GraphQL, WebSockets) pass; call `DeviceService.verifySession` there.
 *
 * The session comes from the `sessionClaim` of `request.user` (or express-session's id); most checks are answered
 * from memory. On success the device is available through `@CurrentDevice()` and its `lastSeenAt` is recorded.
 * When the answer is not cached and the database cannot be reached, the request fails closed with 503 (or, with
 * `whenSessionCheckFails: 'allow'`, passes unchecked).
 */
@Injectable()
export class DeviceSessionGuard implements CanActivate {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly reflector: Reflector,
    private readonly devices: DeviceService,
    private readonly lastSeen: LastSeenRecorder,
    private readonly retrier: TrackingRetrier,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const skip = this.reflector.getAllAndOverride<boolean | undefined>(SKIP_DEVICE_SESSION_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (skip) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<DeviceRequest>();
    // Not authenticated: that is for the authentication guard to judge, not this one.
    if (request.user === undefined || request.user === null) return true;
    const userId = normaliseUserId(this.options.getUserId(request));
    if (userId === undefined) throw new UnauthorizedException('The authenticated user has no id');

    const sessionId = claimedSessionId(request, this.options);
    if (!sessionId) {
      if (this.options.withoutSession === 'allow') return true;
      throw new UnauthorizedException(`This token carries no device session (${this.options.sessionClaim} claim)`);
    }
    const session = await this.verify(sessionId, userId);
    if (session === 'unknown') return true;
    if (!session) {
      // Its login is answered, but its device is still waiting for the database: not logged out, not yet in.
      if (this.retrier.isPending(sessionId)) {
        throw new ServiceUnavailableException('This sign-in is still being recorded; try again shortly');
      }
      // Debug, not warn: a logged-out device's client retrying is routine. Never the session id: it is a credential.
      this.logger.debug(`Refused a request of user ${userId}: its device session is logged out, replaced or unknown`);
      throw new UnauthorizedException('This device has been logged out; sign in again');
    }
    setDeviceSession(request, session);
    this.lastSeen.record(session.deviceId, request, http.getResponse<FinishingResponse>());
    return true;
  }

  /** The verified session, `undefined` when it is not valid, `'unknown'` when it cannot be checked and may pass. */
  private async verify(sessionId: string, userId: string): Promise<DeviceSession | undefined | 'unknown'> {
    try {
      return await this.devices.verifySession(sessionId, userId);
    } catch (error) {
      if (this.options.whenSessionCheckFails === 'allow') {
        this.logger.warn(`Let a request through unchecked: ${(error as Error).message}`);
        return 'unknown';
      }
      this.logger.error(`Cannot check a device session: ${(error as Error).message}`);
      throw new ServiceUnavailableException(SESSION_CHECK_UNAVAILABLE);
    }
  }
}
