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
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { defer, mergeMap, type Observable } from 'rxjs';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT, TRACK_REFRESH_METADATA } from '../device-tracker.constants.js';
import { defaultRefreshToken, type ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { mergedRouteMetadata, routeMetadata } from '../decorators/route-metadata.js';
import { readClientInfo } from '../http/client-info.js';
import { setDeviceSession, withClaims } from '../http/device-session.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { TrackRefreshOptions } from '../interfaces/track-refresh-options.interface.js';
import { refreshRefused, RefreshRotationService } from '../refresh/refresh-rotation.service.js';
import { storeErrorMessage } from '../persistence/store-error.js';

/** Requests one `TrackRefreshInterceptor` acts on: no other acts on them too. */
const taken = new WeakSet<object>();

/**
 * Registered app-wide by the module; acts only on routes marked with `@TrackRefresh()`. Before the handler it finds
 * the device of the refresh token presented, refusing one no active device has, and hands its session to
 * `@CurrentDevice()`; after the handler succeeds it rotates the device to the refresh token the handler returned,
 * refusing the answer when the rotation is refused (a logout or a reuse won the race).
 *
 * Subclass it to change a step ({@link getPresentedToken}, {@link getRefreshToken}) and put the subclass on the
 * refresh route with `@UseInterceptors()`, beside `@TrackRefresh()`: the app-wide one then leaves that route to it.
 */
@Injectable()
export class TrackRefreshInterceptor implements NestInterceptor {
  protected readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    protected readonly reflector: Reflector,
    private readonly refresh: RefreshRotationService,
    @Inject(DEVICE_TRACKER_OPTIONS) protected readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = routeMetadata<TrackRefreshOptions>(this.reflector, TRACK_REFRESH_METADATA, context);
    if (!route || this.leavesRouteToAnother(context)) return next.handle();
    const request = context.switchToHttp().getRequest<DeviceRequest>();
    if (taken.has(request)) return next.handle();
    taken.add(request);
    const client = readClientInfo(request, this.options);
    const presented = this.getPresentedToken(request, route) ?? undefined;
    return defer(async () => {
      if (presented === undefined) {
        throw new BadRequestException('No refresh token in the request: send it as refresh_token in the body');
      }
      const session = await this.unlessStoreFails(() => this.refresh.sessionOf(presented));
      setDeviceSession(request, withClaims(session, this.options.sessionClaim));
      return presented;
    }).pipe(
      mergeMap((old) =>
        next.handle().pipe(
          mergeMap(async (result) => {
            const issued = this.getRefreshToken(result, route);
            if (issued) {
              await this.unlessStoreFails(() => this.refresh.rotate(old, issued, client));
              return result;
            }
            // No new refresh token, so no rotation to catch a replayed one: only the current token may refresh.
            this.logger.warn('No refresh token found in the refresh result: the device was not rotated');
            if (!(await this.unlessStoreFails(() => this.refresh.isActive(old)))) throw refreshRefused();
            return result;
          }),
        ),
      ),
    );
  }

  /**
   * The refresh token the client presents: by default, what the route's `getPresentedToken` finds, else the request
   * body's `refresh_token` or `refreshToken`.
   */
  protected getPresentedToken(request: DeviceRequest, route: TrackRefreshOptions): string | null | undefined {
    return route.getPresentedToken
      ? route.getPresentedToken(request)
      : defaultRefreshToken((request as DeviceRequest & { body?: unknown }).body);
  }

  /**
   * The new refresh token in the handler's answer: by default, what the route's or the module's `getRefreshToken`
   * finds.
   */
  protected getRefreshToken(result: unknown, route: TrackRefreshOptions): string | null | undefined {
    return (route.getRefreshToken ?? this.options.getRefreshToken)(result);
  }

  /** A database error becomes a 503 the client can retry, as on the module's own endpoints. */
  private async unlessStoreFails<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HttpException) throw error;
      this.logger.error(`Could not check a refresh token: ${storeErrorMessage(error)}`);
      throw new ServiceUnavailableException('Cannot refresh right now; try again shortly');
    }
  }

  /** Whether the route's `@UseInterceptors()` binds another `TrackRefreshInterceptor` (a subclass), to act there. */
  private leavesRouteToAnother(context: ExecutionContext): boolean {
    const bound = mergedRouteMetadata<unknown>(this.reflector, INTERCEPTORS_METADATA, context);
    return bound.some(
      (entry) =>
        entry !== this &&
        entry !== this.constructor &&
        (entry instanceof TrackRefreshInterceptor ||
          (typeof entry === 'function' && entry.prototype instanceof TrackRefreshInterceptor)),
    );
  }
}
