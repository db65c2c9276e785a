import type { Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DEVICE_EVENT_EMITTER, DEVICE_TRACKER_OPTIONS, DEVICES_AUTH_GUARD } from './device-tracker.constants.js';
import { MODULE_OPTIONS_TOKEN } from './device-tracker.module-definition.js';
import { resolveDeviceTrackerOptions, type ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import { findEventEmitter } from './events/device-event-publisher.js';
import { DeviceJwtGuard } from './guards/device-jwt.guard.js';
import { HostGuard } from './guards/host-guard.js';
import { SessionCheckInterceptor } from './interceptors/session-check.interceptor.js';
import { TrackRefreshInterceptor } from './interceptors/track-refresh.interceptor.js';
import { DeviceTrackerClock, systemClock } from './interfaces/clock.interface.js';
import type { DeviceTrackerModuleOptions } from './interfaces/device-tracker-options.interface.js';
import { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
import { JWT_VERIFIER, JwtVerifier } from './jwt/jwt-verifier.js';
import { DEVICE_TABLE, prepareDeviceTable } from './persistence/device-table.js';
import { InMemoryRevocationNotifier } from './revocation/in-memory-revocation-notifier.js';
import { createRedisNotifier } from './revocation/redis-notifier.factory.js';

/**
 * The host's notifier, one over Redis for `redis`, or one of the module's own for a single instance (as throttler
 * falls back to its storage). The options were checked by then: the resolved options are asked for first.
 */
export async function createRevocationNotifier(options: DeviceTrackerModuleOptions): Promise<RevocationNotifier> {
  if (options.revocationNotifier) return options.revocationNotifier;
  if (options.redis !== undefined) return createRedisNotifier(options.redis);
  return new InMemoryRevocationNotifier();
}

/** The options, checked and completed, and each seam under its token with the module's own implementation as fallback. */
export const deviceTrackerProviders: Provider[] = [
  { provide: DEVICE_TRACKER_OPTIONS, useFactory: resolveDeviceTrackerOptions, inject: [MODULE_OPTIONS_TOKEN] },
  {
    provide: RevocationNotifier,
    useFactory: (options: DeviceTrackerModuleOptions) => createRevocationNotifier(options),
    inject: [MODULE_OPTIONS_TOKEN, DEVICE_TRACKER_OPTIONS],
  },
  { provide: DeviceTrackerClock, useValue: systemClock },
  { provide: JWT_VERIFIER, useFactory: JwtVerifier.fromOptions, inject: [MODULE_OPTIONS_TOKEN, DeviceTrackerClock] },
  { provide: DEVICE_EVENT_EMITTER, useFactory: findEventEmitter, inject: [ModuleRef] },
  { provide: DEVICE_TABLE, useFactory: prepareDeviceTable, inject: [getDataSourceToken(), DEVICE_TRACKER_OPTIONS] },
  {
    provide: DEVICES_AUTH_GUARD,
    // With the `jwt` option and no guard of the app's, the module's endpoints authenticate as its routes do.
    useFactory: (options: ResolvedDeviceTrackerOptions, moduleRef: ModuleRef, given: DeviceTrackerModuleOptions) =>
      new HostGuard(given.jwt && !given.authGuard ? DeviceJwtGuard : options.authGuard, moduleRef),
    inject: [DEVICE_TRACKER_OPTIONS, ModuleRef, MODULE_OPTIONS_TOKEN],
  },
  // App-wide, so the decorators work in any module; each does nothing on routes without its decorator or option.
  { provide: APP_INTERCEPTOR, useClass: TrackRefreshInterceptor },
  { provide: APP_INTERCEPTOR, useClass: SessionCheckInterceptor },
];
