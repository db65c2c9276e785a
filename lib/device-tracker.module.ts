import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR, ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_OPTIONS, DEVICES_AUTH_GUARD } from './device-tracker.constants.js';
import {
  ConfigurableModuleClass,
  type DeviceTrackerModuleRootOptions,
  MODULE_OPTIONS_TOKEN,
} from './device-tracker.module-definition.js';
import { resolveDeviceTrackerOptions } from './device-tracker.options.js';
import { Device } from './device.entity.js';
import { DeviceService } from './device.service.js';
import { createAuthGuard, DeviceTrackerAuthGuard } from './guards/device-tracker-auth.guard.js';
import { TrackDeviceInterceptor } from './interceptors/track-device.interceptor.js';

/**
 * Registers the `Device` entity with the host's TypeORM connection, provides `DeviceService`, registers the
 * interceptor behind `@TrackDevice()`, and mounts the devices controller.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Device])],
  providers: [
    { provide: DEVICE_TRACKER_OPTIONS, useFactory: resolveDeviceTrackerOptions, inject: [MODULE_OPTIONS_TOKEN] },
    { provide: DEVICES_AUTH_GUARD, useFactory: createAuthGuard, inject: [DEVICE_TRACKER_OPTIONS, ModuleRef] },
    // App-wide, so @TrackDevice() works in any module; it does nothing on routes without the decorator.
    { provide: APP_INTERCEPTOR, useClass: TrackDeviceInterceptor },
    DeviceService,
    DeviceTrackerAuthGuard,
  ],
  exports: [DeviceService, DEVICE_TRACKER_OPTIONS],
})
export class DeviceTrackerModule extends ConfigurableModuleClass {
  /** Options are all optional, so `forRoot()` needs no argument. */
  static override forRoot(options: DeviceTrackerModuleRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }
}
