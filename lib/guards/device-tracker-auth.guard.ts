import { type CanActivate, type ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { DEVICES_AUTH_GUARD } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';

/**
 * The configured `authGuard` as an instance: the host's own provider when it registered the guard, otherwise a new
 * one. Resolved while the app boots, so a guard that cannot be built fails the start rather than every request.
 */
export async function createAuthGuard(
  options: ResolvedDeviceTrackerOptions,
  moduleRef: ModuleRef,
): Promise<CanActivate> {
  const guard = options.authGuard;
  if (typeof guard !== 'function') return guard;
  try {
    return moduleRef.get(guard, { strict: false });
  } catch {
    return moduleRef.create(guard as Type<CanActivate>);
  }
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
