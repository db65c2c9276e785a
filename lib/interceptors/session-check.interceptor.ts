import {
  type CallHandler,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { defer, mergeMap, type Observable } from 'rxjs';
import { DEVICE_TRACKER_OPTIONS, TRACK_DEVICE_METADATA, TRACK_REFRESH_METADATA } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { routeMetadata } from '../decorators/route-metadata.js';
import { DeviceSessionGuard } from '../guards/device-session.guard.js';
import { isSessionChecked } from '../http/device-session.js';

/**
 * `sessionCheck: 'app'`: runs `DeviceSessionGuard`'s check on every HTTP route, app-wide. An interceptor, not a
 * global guard, because Nest runs global guards before a route's own: only after them is `request.user` set. The
 * login and refresh routes are exempt (their tokens are being made), and so is a request a guard checked already.
 */
@Injectable()
export class SessionCheckInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly guard: DeviceSessionGuard,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.options.sessionCheck !== 'app' || context.getType() !== 'http') return next.handle();
    if (isSessionChecked(context.switchToHttp().getRequest<object>()) || this.issuesTokens(context)) {
      return next.handle();
    }
    return defer(async () => {
      // A subclass may answer false where the base throws: refuse as Nest refuses for a guard.
      if (!(await this.guard.canActivate(context))) throw new ForbiddenException('Forbidden resource');
    }).pipe(mergeMap(() => next.handle()));
  }

  private issuesTokens(context: ExecutionContext): boolean {
    return [TRACK_DEVICE_METADATA, TRACK_REFRESH_METADATA].some((key) => routeMetadata(this.reflector, key, context));
  }
}
