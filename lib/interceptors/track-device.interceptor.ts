import { randomUUID } from 'node:crypto';
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
import { defer, mergeMap, type Observable } from 'rxjs';
import { presentedDeviceId, writeDeviceId, type DeviceResponse } from '../http/device-id.js';
import { setDeviceSession, type DeviceSession } from '../http/device-session.js';
import { destroyRequestSession, requestSessionId } from '../http/request-session.js';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT, TRACK_DEVICE_METADATA } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceService } from '../device.service.js';
import { MaxDevicesExceededException } from '../exceptions/max-devices-exceeded.exception.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { TrackDeviceOptions } from '../interfaces/track-device-options.interface.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import { normaliseUserId } from '../values/user-id.js';

/**
 * Registered app-wide by the module; acts only on routes marked with `@TrackDevice()`. Before the handler it
 * prepares the device session (available through `@CurrentDevice()`, to be signed into the tokens); after the
 * handler succeeds it records the login. A handler that throws (a failed login) records nothing.
 *
 * Tracking fails the login only when `maxDevices` says `'reject'`, or when the database cannot record it and
 * `whenTrackingFails` is `'refuse'`. By default such a write is retried in the background and the handler's result
 * goes out unchanged.
 */
@Injectable()
export class TrackDeviceInterceptor implements NestInterceptor {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly reflector: Reflector,
    private readonly devices: DeviceService,
    private readonly retrier: TrackingRetrier,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const routeOptions = this.reflector.getAllAndOverride<TrackDeviceOptions | undefined>(TRACK_DEVICE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!routeOptions) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<DeviceRequest>();
    const response = http.getResponse<DeviceResponse>();
    const getUserId = routeOptions.getUserId ?? this.options.getUserId;
    return defer(() => this.prepare(request, getUserId)).pipe(
      mergeMap((session) =>
        next.handle().pipe(
          mergeMap(async (result) => {
            await this.track(request, response, result, session, routeOptions);
            return result;
          }),
        ),
      ),
    );
  }

  /** The session this login will be recorded as; the user is known here when a guard authenticated it. */
  private async prepare(
    request: DeviceRequest,
    getUserId: NonNullable<TrackDeviceOptions['getUserId']>,
  ): Promise<DeviceSession> {
    let session: DeviceSession;
    try {
      session = await this.devices.prepareLogin(request, normaliseUserId(getUserId(request)));
    } catch (error) {
      if (error instanceof MaxDevicesExceededException) await this.refuse(request, error);
      this.logger.warn(`Could not look up the device of a login: ${(error as Error).message}`);
      // Unchecked until the write: track() updates the presented device only if it is this user's.
      session = {
        deviceId: presentedDeviceId(request, this.options) ?? randomUUID(),
        sessionId: requestSessionId(request, this.options) ?? randomUUID(),
      };
    }
    setDeviceSession(request, session);
    return session;
  }

  /** Records the login and hands the device id back to the client. */
  private async track(
    request: DeviceRequest,
    response: DeviceResponse,
    result: unknown,
    session: DeviceSession,
    routeOptions: TrackDeviceOptions,
  ): Promise<void> {
    try {
      const userId = normaliseUserId((routeOptions.getUserId ?? this.options.getUserId)(request));
      if (userId === undefined) {
        this.logger.warn('Login succeeded but the request carries no user id; no device was tracked');
        return;
      }
      const refreshToken = (routeOptions.getRefreshToken ?? this.options.getRefreshToken)(result);
      if (!refreshToken && !this.options.sessionStore) {
        this.logger.warn(
          'No refresh token found in the login result; it cannot be revoked when this device is logged out',
        );
      }
      let device: Device;
      try {
        device = await this.devices.track(request, userId, refreshToken, session);
      } catch (error) {
        if (error instanceof MaxDevicesExceededException) await this.refuse(request, error);
        // What the host handed over cannot be recorded (an undecodable token): no retry can help.
        if (error instanceof BadRequestException) throw error;
        if (this.options.whenTrackingFails === 'refuse') {
          this.logger.warn(`Refused a login whose device could not be tracked: ${(error as Error).message}`);
          await this.refuse(
            request,
            new ServiceUnavailableException('Cannot record this sign-in right now; try again shortly'),
          );
        }
        this.retryLater(request, response, userId, refreshToken, session, error as Error);
        return;
      }
      setDeviceSession(request, { deviceId: device.id, sessionId: device.sessionId ?? session.sessionId });
      writeDeviceId(request, response, device.id, this.options);
    } catch (error) {
      if (error instanceof HttpException && !(error instanceof BadRequestException)) throw error;
      this.logger.warn(`Login succeeded but its device could not be tracked: ${(error as Error).message}`);
    }
  }

  /**
   * Hands the login to the retrier. The tokens name the prepared session: once a retry has written it, they work.
   * The device id goes back only when it is one the server made: a presented one is still unchecked.
   */
  private retryLater(
    request: DeviceRequest,
    response: DeviceResponse,
    userId: string,
    refreshToken: string | null | undefined,
    session: DeviceSession,
    error: Error,
  ): void {
    const loggedInAt = new Date();
    const write = async () => {
      // Another instance may have logged the device out after this login; this one cancels its own retries.
      const current = await this.devices.findOne(userId, session.deviceId).catch((lookup: unknown) => {
        if (lookup instanceof NotFoundException) return null;
        throw lookup;
      });
      if (current?.revokedAt && current.revokedAt >= loggedInAt) {
        throw new ConflictException('The device was logged out after this login');
      }
      return this.devices.track(request, userId, refreshToken, session);
    };
    this.retrier.retry({ userId, deviceId: session.deviceId, sessionId: session.sessionId, write }, error);
    if (session.deviceId !== presentedDeviceId(request, this.options)) {
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
