import {
  BadRequestException,
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { defer, mergeMap, type Observable } from 'rxjs';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT, TRACK_REFRESH_METADATA } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { routeMetadata } from '../decorators/route-metadata.js';
import { readClientInfo } from '../http/client-info.js';
import { setDeviceSession, withClaims } from '../http/device-session.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { TrackRefreshOptions } from '../interfaces/track-refresh-options.interface.js';
import { RefreshRotationService } from '../refresh/refresh-rotation.service.js';

/** The same answer for every refresh token the module refuses before the handler: it tells a client nothing. */
const refused = () => new UnauthorizedException('Refresh token has been revoked or already used');

/** The request body's `refresh_token` or `refreshToken`, when it is a non-empty string. */
function presentedToken(request: DeviceRequest & { body?: unknown }): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const token = body?.refresh_token ?? body?.refreshToken;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/**
 * Registered app-wide by the module; acts only on routes marked with `@TrackRefresh()`. Before the handler it finds
 * the device of the refresh token presented, refusing one no active device has, and hands its session to
 * `@CurrentDevice()`; after the handler succeeds it rotates the device to the refresh token the handler returned,
 * refusing the answer when the rotation is refused (a logout or a reuse won the race).
 */
@Injectable()
export class TrackRefreshInterceptor implements NestInterceptor {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly reflector: Reflector,
    private readonly refresh: RefreshRotationService,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = routeMetadata<TrackRefreshOptions>(this.reflector, TRACK_REFRESH_METADATA, context);
    if (!route) return next.handle();
    const request = context.switchToHttp().getRequest<DeviceRequest>();
    const client = readClientInfo(request, this.options);
    const presented = (route.getPresentedToken ?? presentedToken)(request) ?? undefined;
    return defer(async () => {
      if (presented === undefined) {
        throw new BadRequestException('No refresh token in the request: send it as refresh_token in the body');
      }
      const session = await this.refresh.sessionOf(presented);
      if (!session) throw refused();
      setDeviceSession(request, withClaims(session, this.options.sessionClaim));
      return presented;
    }).pipe(
      mergeMap((old) =>
        next.handle().pipe(
          mergeMap(async (result) => {
            const issued = (route.getRefreshToken ?? this.options.getRefreshToken)(result);
            if (!issued) {
              this.logger.warn('No refresh token found in the refresh result; the device was not rotated');
              return result;
            }
            try {
              await this.refresh.rotate(old, issued, client);
            } catch (error) {
              if (error instanceof HttpException) throw error;
              this.logger.error(`Could not rotate a refresh token: ${(error as Error).message}`);
              throw new ServiceUnavailableException('Cannot refresh right now; try again shortly');
            }
            return result;
          }),
        ),
      ),
    );
  }
}
