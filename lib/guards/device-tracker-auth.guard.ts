import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { DEVICES_AUTH_GUARD } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { HostGuard } from './host-guard.js';

/** The configured `authGuard` (see {@link HostGuard}). */
export function createAuthGuard(options: ResolvedDeviceTrackerOptions, moduleRef: ModuleRef): HostGuard {
  return new HostGuard(options.authGuard, moduleRef);
}

/**
 * Guards the devices endpoints with the configured `authGuard` (default `AuthGuard('jwt')`). The controller's guards
 * are fixed when its class is defined, so this one delegates to the guard chosen in the options.
 */
@Injectable()
export class DeviceTrackerAuthGuard implements CanActivate {
  constructor(@Inject(DEVICES_AUTH_GUARD) private readonly delegate: CanActivate) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    return this.delegate.canActivate(context);
  }
}
