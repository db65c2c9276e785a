import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mergeMap, type Observable } from 'rxjs';
import { writeDeviceId, type DeviceResponse } from '../device-id.js';
import { DEVICE_TRACKER_OPTIONS, TRACK_DEVICE_METADATA } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { normaliseUserId } from '../user-id.js';
import { DeviceService } from '../device.service.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { TrackDeviceOptions } from '../interfaces/track-device-options.interface.js';

/**
 * Registered app-wide by the module; on routes marked with `@TrackDevice()` it tracks the device after the handler
 * succeeds. A handler that throws (a failed login) tracks nothing. Tracking never fails the login: a problem is
 * logged as a warning and the handler's result goes out unchanged.
 */
@Injectable()
export class TrackDeviceInterceptor implements NestInterceptor {
  private readonly logger = new Logger('DeviceTracker');

  constructor(
    private readonly reflector: Reflector,
    private readonly devices: DeviceService,
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
    return next.handle().pipe(
      mergeMap(async (result) => {
        await this.track(request, response, result, routeOptions);
        return result;
      }),
    );
  }

  /** Records the login and hands the device id back to the client. */
  private async track(
    request: DeviceRequest,
    response: DeviceResponse,
    result: unknown,
    routeOptions: TrackDeviceOptions,
  ): Promise<void> {
    try {
      const userId = normaliseUserId((routeOptions.getUserId ?? this.options.getUserId)(request));
      if (userId === undefined) {
        this.logger.warn('Login succeeded but the request carries no user id; no device was tracked');
        return;
      }
      const refreshToken = (routeOptions.getRefreshToken ?? this.options.getRefreshToken)(result);
      if (!refreshToken) {
        this.logger.warn('No refresh token found in the login result; logging this device out will not revoke it');
      }
      const device = await this.devices.track(request, userId, refreshToken);
      writeDeviceId(request, response, device.id, this.options);
    } catch (error) {
      this.logger.warn(`Login succeeded but its device could not be tracked: ${(error as Error).message}`);
    }
  }
}
