import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR, ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEventPublisher, findEventEmitter } from './events/device-event-publisher.js';
import { DevicePruner } from './retention/device-pruner.js';
import { DEVICE_EVENT_EMITTER, DEVICE_TRACKER_OPTIONS, DEVICES_AUTH_GUARD } from './device-tracker.constants.js';
import {
  ConfigurableModuleClass,
  type DeviceTrackerModuleRootOptions,
  MODULE_OPTIONS_TOKEN,
} from './device-tracker.module-definition.js';
import { resolveDeviceTrackerOptions } from './device-tracker.options.js';
import { Device } from './persistence/device.entity.js';
import { DeviceService } from './device.service.js';
import { DeviceSessionGuard } from './guards/device-session.guard.js';
import { createAuthGuard, DeviceTrackerAuthGuard } from './guards/device-tracker-auth.guard.js';
import { TrackDeviceInterceptor } from './interceptors/track-device.interceptor.js';
import { LastSeenRecorder } from './sessions/last-seen-recorder.js';
import { TrackingRetrier } from './login/tracking-retrier.js';
import { SessionCache } from './sessions/session-cache.js';

/**
 * Registers the `Device` entity with the host's TypeORM connection, provides `DeviceService` and
 * `DeviceSessionGuard`, registers the interceptor behind `@TrackDevice()`, and mounts the devices controller.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Device])],
  providers: [
    { provide: DEVICE_TRACKER_OPTIONS, useFactory: resolveDeviceTrackerOptions, inject: [MODULE_OPTIONS_TOKEN] },
    { provide: DEVICES_AUTH_GUARD, useFactory: createAuthGuard, inject: [DEVICE_TRACKER_OPTIONS, ModuleRef] },
    { provide: DEVICE_EVENT_EMITTER, useFactory: findEventEmitter, inject: [ModuleRef] },
    // App-wide, so @TrackDevice() works in any module; it does nothing on routes without the decorator.
    { provide: APP_INTERCEPTOR, useClass: TrackDeviceInterceptor },
    DeviceService,
    DeviceTrackerAuthGuard,
    DeviceEventPublisher,
    DeviceSessionGuard,
    LastSeenRecorder,
    SessionCache,
    DevicePruner,
    TrackingRetrier,
  ],
  // DeviceSessionGuard is instantiated where the host uses it, so what it injects is exported too.
  exports: [DeviceService, DeviceSessionGuard, LastSeenRecorder, TrackingRetrier, DEVICE_TRACKER_OPTIONS],
})
export class DeviceTrackerModule extends ConfigurableModuleClass {
  /** Options are all optional, so `forRoot()` needs no argument. */
  static override forRoot(options: DeviceTrackerModuleRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }
}
