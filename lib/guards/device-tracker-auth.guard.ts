import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { DEVICES_AUTH_GUARD } from '../device-tracker.constants.js';

/**
 * Guards the devices endpoints with the configured `authGuard` (default `AuthGuard('jwt')`). The controller's guards
 * are fixed when its class is defined, so this one delegates to the guard chosen in the options
 * (a `HostGuard`, see device-tracker.providers.ts).
 */
@Injectable()
export class DeviceTrackerAuthGuard implements CanActivate {
  constructor(@Inject(DEVICES_AUTH_GUARD) private readonly delegate: CanActivate) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    return this.delegate.canActivate(context);
  }
}
