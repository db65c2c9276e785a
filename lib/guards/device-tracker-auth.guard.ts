import { type CanActivate, type ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';

/**
 * Guards the devices endpoints with the guard named in the options (`authGuard`, default `AuthGuard('jwt')`).
 * The controller's guards are fixed when its class is defined, so this one delegates to the configured guard.
 */
@Injectable()
export class DeviceTrackerAuthGuard implements CanActivate {
  private delegate?: Promise<CanActivate>;

  constructor(
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    this.delegate ??= this.createDelegate();
    const allowed = (await this.delegate).canActivate(context);
    return isObservable(allowed) ? lastValueFrom(allowed) : allowed;
  }

  private async createDelegate(): Promise<CanActivate> {
    const guard = this.options.authGuard;
    return typeof guard === 'function' ? this.moduleRef.create(guard as Type<CanActivate>) : guard;
  }
}
