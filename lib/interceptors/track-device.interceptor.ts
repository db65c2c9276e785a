import {
  BadRequestException,
  type CallHandler,
  ConflictException,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, mergeMap, type Observable } from 'rxjs';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT, TRACK_DEVICE_METADATA } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { routeMetadata } from '../decorators/route-metadata.js';
import { MaxDevicesExceededException } from '../exceptions/max-devices-exceeded.exception.js';
import { type ClientInfo, readClientInfo } from '../http/client-info.js';
import { writeDeviceId, type DeviceResponse } from '../http/device-id.js';
import { type SessionRef, setDeviceSession, withClaims } from '../http/device-session.js';
import { destroyRequestSession, requestSessionId } from '../http/request-session.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { TrackDeviceOptions } from '../interfaces/track-device-options.interface.js';
import { LoginService } from '../login/login.service.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceQueries } from '../queries/device-queries.service.js';
import { timeOrderedId } from '../values/time-ordered-id.js';
import { normaliseUserId } from '../values/user-id.js';
import { storeErrorMessage } from '../persistence/store-error.js';

/** A login whose handler succeeded, on its way to being recorded. */
interface Login {
  request: DeviceRequest;
  response: DeviceResponse;
  client: ClientInfo;
  session: SessionRef;
}

/**
 * Registered app-wide by the module; acts only on routes marked with `@TrackDevice()`. Before the handler it
 * prepares the device session (available through `@CurrentDevice()`, to be signed into the tokens); after the
 * handler succeeds it records the login. A handler that throws (a failed login) records nothing.
 *
 * Tracking fails the login only when `maxDevices` says `'reject'`, or when the database cannot record it and
 * `whenTrackingFails` is `'refuse'`. By default such a write is retried in the background and the handler's result
 * goes out unchanged.
 *
 * Subclass it to change a step ({@link getUserId}, {@link getRefreshToken}, {@link handleTrackingFailure}) and
 * pass the subclass as `forRoot({ interceptor })`.
 */
@Injectable()
export class TrackDeviceInterceptor implements NestInterceptor {
  protected readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    protected readonly reflector: Reflector,
    private readonly logins: LoginService,
    private readonly queries: DeviceQueries,
    private readonly retrier: TrackingRetrier,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
    @Inject(DEVICE_TRACKER_OPTIONS) protected readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = routeMetadata<TrackDeviceOptions>(this.reflector, TRACK_DEVICE_METADATA, context);
    if (!route) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<DeviceRequest>();
    const response = http.getResponse<DeviceResponse>();
    const client = readClientInfo(request, this.options);
    const handle = (session: SessionRef) =>
      next.handle().pipe(
        mergeMap(async (result) => {
          // A session-based login ends on another session than it began (passport regenerates it).
          const ended = { ...client, requestSessionId: requestSessionId(request, this.options) };
          await this.track({ request, response, client: ended, session }, result, route);
          return result;
        }),
      );
    // Most logins are prepared at once (a first login, no device cap): then no promise stands before the handler.
    const prepared = this.prepare(request, client, route);
    return prepared instanceof Promise ? from(prepared).pipe(mergeMap(handle)) : handle(prepared);
  }

  /** The id of the user logging in: by default, what the route's or the module's `getUserId` finds. */
  protected getUserId(request: DeviceRequest, route: TrackDeviceOptions): string | undefined {
    return normaliseUserId((route.getUserId ?? this.options.getUserId)(request));
  }

  /** The refresh token the login issued: by default, what the route's or the module's `getRefreshToken` finds. */
  protected getRefreshToken(result: unknown, route: TrackDeviceOptions): string | null | undefined {
    return (route.getRefreshToken ?? this.options.getRefreshToken)(result);
  }

  /**
   * Called when a successful login's device cannot be written (the database is unreachable). Return to answer as
   * the handler did, and the write is retried in the background; throw to fail the login. By default,
   * `whenTrackingFails` decides: `'refuse'` answers 503.
   */
  protected handleTrackingFailure(error: Error, request: DeviceRequest): Promise<void> | void {
    if (this.options.whenTrackingFails !== 'refuse') return;
    this.logger.warn(`Refused a login whose device could not be tracked: ${storeErrorMessage(error)}`);
    return this.refuse(
      request,
      new ServiceUnavailableException('Cannot record this sign-in right now; try again shortly'),
    );
  }

  /** The session this login will be recorded as; the user is known here when a guard authenticated it. */
  private prepare(
    request: DeviceRequest,
    client: ClientInfo,
    route: TrackDeviceOptions,
  ): SessionRef | Promise<SessionRef> {
    let prepared: SessionRef | Promise<SessionRef>;
    try {
      prepared = this.logins.prepare(client, this.getUserId(request, route));
    } catch (error) {
      return this.unprepared(request, client, error as Error);
    }
    if (!(prepared instanceof Promise)) return this.reserve(request, prepared);
    return prepared.then(
      (session) => this.reserve(request, session),
      (error: Error) => this.unprepared(request, client, error),
    );
  }

  /** Hands the session to `@CurrentDevice()`, for the handler to sign into the tokens. */
  private reserve(request: DeviceRequest, session: SessionRef): SessionRef {
    setDeviceSession(request, withClaims(session, this.options.sessionClaim));
    return session;
  }

  /** A login whose device could not be looked up (the database is unreachable) still gets a session. */
  private async unprepared(request: DeviceRequest, client: ClientInfo, error: Error): Promise<SessionRef> {
    if (error instanceof MaxDevicesExceededException) await this.refuse(request, error);
    this.logger.warn(`Could not look up the device of a login: ${storeErrorMessage(error)}`);
    // Unchecked until the write: the login updates the presented device only if it is this user's.
    const newId = () => timeOrderedId(this.clock.now());
    return this.reserve(request, {
      deviceId: client.presentedDeviceId ?? newId(),
      sessionId: client.requestSessionId ?? newId(),
    });
  }

  /** Records the login and hands the device id back to the client. */
  private async track(login: Login, result: unknown, route: TrackDeviceOptions): Promise<void> {
    const { request, response, client, session } = login;
    try {
      const userId = this.getUserId(request, route);
      if (userId === undefined) {
        this.logger.warn('Login succeeded but the request carries no user id; no device was tracked');
        return;
      }
      const refreshToken = this.getRefreshToken(result, route);
      if (!refreshToken && !this.options.sessionStore) {
        this.logger.warn(
          'No refresh token found in the login result; it cannot be revoked when this device is logged out',
        );
      }
      let device: Device;
      const startedAt = new Date(this.clock.now());
      try {
        device = await this.logins.record(client, userId, refreshToken, session);
      } catch (error) {
        if (error instanceof MaxDevicesExceededException) await this.refuse(request, error);
        // What the host handed over cannot be recorded (an undecodable token): no retry can help.
        if (error instanceof BadRequestException) throw error;
        await this.handleTrackingFailure(error as Error, request);
        this.retryLater(login, userId, refreshToken, startedAt, error as Error);
        return;
      }
      const sessionId = device.sessionId ?? session.sessionId;
      if (device.id !== session.deviceId || sessionId !== session.sessionId) {
        setDeviceSession(request, withClaims({ deviceId: device.id, sessionId }, this.options.sessionClaim));
      }
      writeDeviceId(request, response, device.id, this.options);
    } catch (error) {
      if (error instanceof HttpException && !(error instanceof BadRequestException)) throw error;
      this.logger.warn(`Login succeeded but its device could not be tracked: ${storeErrorMessage(error)}`);
    }
  }

  /**
   * Hands the login to the retrier. The tokens name the prepared session: once a retry has written it, they work.
   * The device id goes back only when it is one the server made: a presented one is still unchecked.
   */
  private retryLater(
    login: Login,
    userId: string,
    refreshToken: string | null | undefined,
    startedAt: Date,
    error: Error,
  ): void {
    const { request, response, client, session } = login;
    const loggedInAt = new Date(this.clock.now());
    const ours = client.requestSessionId ?? session.sessionId;
    const write = async () => {
      // Another instance may have logged the device out after this login; this one cancels its own retries.
      const current = await this.queries.findOne(userId, session.deviceId).catch((lookup: unknown) => {
        if (lookup instanceof NotFoundException) return null;
        throw lookup;
      });
      if (current?.revokedAt && current.revokedAt >= loggedInAt) {
        throw new ConflictException('The device was logged out after this login');
      }
      // A newer login of the device moved it to its own session while this write waited: the first attempt may even
      // have landed before the connection dropped. Writing now would bring back a session that login ended.
      if (current && current.sessionId !== ours && current.lastLoginAt >= startedAt) {
        throw new ConflictException('A newer login of the device replaced this one');
      }
      return this.logins.record(client, userId, refreshToken, session);
    };
    this.retrier.retry({ userId, deviceId: session.deviceId, sessionId: session.sessionId, write }, error);
    if (session.deviceId !== client.presentedDeviceId) {
      writeDeviceId(request, response, session.deviceId, this.options);
    }
  }

  /**
   * Fails a login: refused by `maxDevices`, or untrackable with `whenTrackingFails: 'refuse'`. An express session
   * the login guard already signed in would otherwise be saved as the response ends, and signed in it would stay for
   * routes without `DeviceSessionGuard`.
   */
  private async refuse(request: DeviceRequest, error: HttpException): Promise<never> {
    await destroyRequestSession(request, this.options);
    throw error;
  }
}
