import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DEVICE_EVENT_EMITTER, DEVICE_TRACKER_OPTIONS, DEVICES_AUTH_GUARD } from './device-tracker.constants.js';
import { MODULE_OPTIONS_TOKEN } from './device-tracker.module-definition.js';
import { resolveDeviceTrackerOptions, type ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import { findEventEmitter } from './events/device-event-publisher.js';
import { HostGuard } from './guards/host-guard.js';
import { DeviceTrackerClock, systemClock } from './interfaces/clock.interface.js';
import type { DeviceTrackerModuleOptions } from './interfaces/device-tracker-options.interface.js';
import { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
import { InMemoryRevocationNotifier } from './revocation/in-memory-revocation-notifier.js';

/** The host's notifier, or one of the module's own for a single instance (as throttler falls back to its storage). */
export function createRevocationNotifier(options: DeviceTrackerModuleOptions): RevocationNotifier {
  return options.revocationNotifier ?? new InMemoryRevocationNotifier();
}

/** The options, checked and completed, and each seam under its token with the module's own implementation as fallback. */
export const deviceTrackerProviders: Provider[] = [
  { provide: DEVICE_TRACKER_OPTIONS, useFactory: resolveDeviceTrackerOptions, inject: [MODULE_OPTIONS_TOKEN] },
  { provide: RevocationNotifier, useFactory: createRevocationNotifier, inject: [MODULE_OPTIONS_TOKEN] },
  { provide: DeviceTrackerClock, useValue: systemClock },
  { provide: DEVICE_EVENT_EMITTER, useFactory: findEventEmitter, inject: [ModuleRef] },
  {
    provide: DEVICES_AUTH_GUARD,
    useFactory: (options: ResolvedDeviceTrackerOptions, moduleRef: ModuleRef) =>
      new HostGuard(options.authGuard, moduleRef),
    inject: [DEVICE_TRACKER_OPTIONS, ModuleRef],
  },
];
