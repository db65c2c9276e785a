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
import {
  DEVICE_TRACKER_OPTIONS,
  LOGGER_CONTEXT,
  SESSION_CHECK_UNAVAILABLE,
  SKIP_DEVICE_SESSION_METADATA,
} from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { routeMetadata } from '../decorators/route-metadata.js';
import { afterResponse, type FinishingResponse } from '../http/after-response.js';
import { recordedIp } from '../http/client-ip.js';
import { claimedSessionId } from '../http/session-claim.js';
import {
  type DeviceSession,
  markSessionChecked,
  markSessionLookedAt,
  setCaller,
  setDeviceSession,
} from '../http/device-session.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import { LastSeenRecorder } from '../sessions/last-seen-recorder.js';
import { SessionVerifier } from '../sessions/session-verifier.js';
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
 *
 * Subclass it to change a step: {@link shouldSkip}, {@link getUserId}, {@link getSessionId},
 * {@link handleMissingSession}, {@link handleCheckFailure}.
 */
@Injectable()
export class DeviceSessionGuard implements CanActivate {
  protected readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    protected readonly reflector: Reflector,
    private readonly sessions: SessionVerifier,
    private readonly lastSeen: LastSeenRecorder,
    private readonly retrier: TrackingRetrier,
    @Inject(DEVICE_TRACKER_OPTIONS) protected readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<DeviceRequest>();
    // Whatever follows, the module looked: @CurrentDevice() answers undefined here rather than calling it misplaced.
    markSessionLookedAt(request);
    if (this.shouldSkip(context)) {
      markSessionChecked(request);
      return true;
    }
    // Not authenticated: that is for the authentication guard to judge, not this one.
    if (request.user === undefined || request.user === null) return true;
    markSessionChecked(request);
    const userId = this.getUserId(request);
    if (userId === undefined) throw new UnauthorizedException('The authenticated user has no id');

    const sessionId = this.getSessionId(request);
    setCaller(request, userId, sessionId);
    if (!sessionId) return this.handleMissingSession(request);
    // Most requests are answered from memory: then the guard answers at once, without a promise.
    const known = this.sessions.cached(sessionId, userId);
    if (known !== undefined) return this.admit(context, known, sessionId, userId);
    return this.sessions.verify(sessionId, userId).then(
      (session) => this.admit(context, session ?? null, sessionId, userId),
      (error: Error) => {
        if (this.handleCheckFailure(error, request)) return true;
        throw new ServiceUnavailableException(SESSION_CHECK_UNAVAILABLE);
      },
    );
  }

  /** Lets the request through on its verified session, or refuses it when the session is not (or not yet) live. */
  private admit(context: ExecutionContext, session: DeviceSession | null, sessionId: string, userId: string): true {
    const http = context.switchToHttp();
    const request = http.getRequest<DeviceRequest>();
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
    const response = http.getResponse<FinishingResponse>();
    this.lastSeen.record(
      session.deviceId,
      () => recordedIp(request, this.options.storeIpAddress),
      (write) => afterResponse(response, write),
    );
    return true;
  }

  /** Whether the route is exempt: by default, when `@SkipDeviceSession()` marks its handler or class. */
  protected shouldSkip(context: ExecutionContext): boolean {
    return !!routeMetadata<boolean>(this.reflector, SKIP_DEVICE_SESSION_METADATA, context);
  }

  /** The authenticated user's id: by default, what the `getUserId` option finds. */
  protected getUserId(request: DeviceRequest): string | undefined {
    return normaliseUserId(this.options.getUserId(request));
  }

  /**
   * The session the request claims: by default the `sessionClaim` of `request.user`, else the express-session or
   * @fastify/session id when the app tracks sessions, else that claim of the bearer token (for strategies whose
   * `validate()` drops it).
   */
  protected getSessionId(request: DeviceRequest): string | undefined {
    return claimedSessionId(request, this.options);
  }

  /**
   * Called for an authenticated request that claims no session (a token signed without `...device.claims`). Return
   * `true` to let it through unchecked; by default, `withoutSession` decides, and `'deny'` answers 401 with the fix.
   */
  protected handleMissingSession(_request: DeviceRequest): boolean {
    if (this.options.withoutSession === 'allow') return true;
    throw new UnauthorizedException(
      `This token carries no device session (${this.options.sessionClaim} claim): sign \`...device.claims\` from ` +
        '@CurrentDevice() into the tokens your @TrackDevice() login issues',
    );
  }

  /**
   * Called when the session cannot be checked (the database cannot be asked and the answer is not cached). Return
   * `true` to let the request through unchecked (`@CurrentDevice()` is then undefined), `false` to answer 503. By
   * default, `whenSessionCheckFails` decides.
   */
  protected handleCheckFailure(error: Error, _request: DeviceRequest): boolean {
    if (this.options.whenSessionCheckFails === 'allow') {
      this.logger.warn(`Let a request through unchecked: ${error.message}`);
      return true;
    }
    this.logger.error(`Cannot check a device session: ${error.message}`);
    return false;
  }
}
