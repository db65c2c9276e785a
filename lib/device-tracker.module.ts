import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigurableModuleClass, type DeviceTrackerModuleRootOptions } from './device-tracker.module-definition.js';
import { deviceTrackerProviders } from './device-tracker.providers.js';
import { DeviceService } from './device.service.js';
import { DeviceEventPublisher } from './events/device-event-publisher.js';
import { DeviceSessionGuard } from './guards/device-session.guard.js';
import { JWT_VERIFIER } from './jwt/jwt-verifier.js';
import { OwnEndpointsSessionGuard } from './guards/own-endpoints-session.guard.js';
import { DeviceTrackerAuthGuard } from './guards/device-tracker-auth.guard.js';
import { DeviceLimitPolicy } from './login/device-limit.policy.js';
import { LoginService } from './login/login.service.js';
import { TrackingRetrier } from './login/tracking-retrier.js';
import { Device } from './persistence/device.entity.js';
import { DeviceStore } from './persistence/device.store.js';
import { StatementRunner } from './persistence/statement-runner.js';
import { DeviceQueries } from './queries/device-queries.service.js';
import { RefreshRotationService } from './refresh/refresh-rotation.service.js';
import { DevicePruner } from './retention/device-pruner.js';
import { PruneService } from './retention/prune.service.js';
import { LogoutService } from './revocation/logout.service.js';
import { SessionRevoker } from './revocation/session-revoker.js';
import { LastSeenRecorder } from './sessions/last-seen-recorder.js';
import { SessionCache } from './sessions/session-cache.js';
import { SessionVerifier } from './sessions/session-verifier.js';
import { DEVICE_TRACKER_OPTIONS } from './device-tracker.constants.js';
import { DeviceTrackerClock } from './interfaces/clock.interface.js';
import { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
import type { DynamicModule } from '@nestjs/common';

/**
 * Registers the `Device` entity with the host's TypeORM connection, provides `DeviceService` and
 * `DeviceSessionGuard`, registers the interceptor behind `@TrackDevice()`, and mounts the devices controller.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Device])],
  providers: [
    ...deviceTrackerProviders,
    DeviceStore,
    StatementRunner,
    DeviceQueries,
    SessionCache,
    SessionVerifier,
    SessionRevoker,
    LogoutService,
    DeviceLimitPolicy,
    LoginService,
    RefreshRotationService,
    PruneService,
    DevicePruner,
    TrackingRetrier,
    LastSeenRecorder,
    DeviceEventPublisher,
    DeviceTrackerAuthGuard,
    DeviceSessionGuard,
    OwnEndpointsSessionGuard,
    DeviceService,
  ],
  // DeviceSessionGuard and a host's subclass of it or of TrackRefreshInterceptor are instantiated where the host uses
  // them: what they inject is exported too.
  exports: [
    DeviceService,
    DeviceSessionGuard,
    JWT_VERIFIER,
    SessionVerifier,
    LastSeenRecorder,
    TrackingRetrier,
    RefreshRotationService,
    DEVICE_TRACKER_OPTIONS,
    RevocationNotifier,
    DeviceTrackerClock,
  ],
})
export class DeviceTrackerModule extends ConfigurableModuleClass {
  /** Options are all optional, so `forRoot()` needs no argument. */
  static override forRoot(options: DeviceTrackerModuleRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }
}
