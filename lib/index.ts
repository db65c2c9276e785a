export { CurrentDevice } from './decorators/current-device.decorator.js';
export { SkipDeviceSession } from './decorators/skip-device-session.decorator.js';
export { TrackDevice } from './decorators/track-device.decorator.js';
export { TrackRefresh } from './decorators/track-refresh.decorator.js';
export type { DeviceSession } from './http/device-session.js';
export {
  DeviceTrackerEvents,
  type DeviceCreatedEvent,
  type DeviceLoggedOutEvent,
  type DeviceLogoutReason,
  type MaxDevicesExceededEvent,
  type RefreshTokenReuseDetectedEvent,
} from './events/device-tracker.events.js';
export { MaxDevicesExceededException } from './exceptions/max-devices-exceeded.exception.js';
export { DeviceJwtGuard } from './guards/device-jwt.guard.js';
export { DeviceSessionGuard } from './guards/device-session.guard.js';
export type { JwtClaims } from './jwt/jwt-verifier.js';
export { TrackDeviceInterceptor } from './interceptors/track-device.interceptor.js';
export { TrackRefreshInterceptor } from './interceptors/track-refresh.interceptor.js';
export { DeviceTrackerClock, type Clock } from './interfaces/clock.interface.js';
export { RevocationNotifier } from './interfaces/revocation-notifier.interface.js';
export { InMemoryRevocationNotifier } from './revocation/in-memory-revocation-notifier.js';
export {
  RedisRevocationNotifier,
  type RedisConnection,
  type RedisRevocationNotifierOptions,
} from './revocation/redis-revocation-notifier.js';
export { Device } from './persistence/device.entity.js';
export {
  DeviceService,
  type DeviceSearchFilters,
  type DeviceSearchResult,
  type ListDevicesOptions,
  type PruneOptions,
  type UserId,
} from './device.service.js';
export { PRUNE_INTERVAL_NAME } from './retention/device-pruner.js';
export { TrackingRetrier, type TrackingRetryStats } from './login/tracking-retrier.js';
export { DeviceTrackerModule } from './device-tracker.module.js';
export type {
  DeviceTrackerModuleAsyncOptions,
  DeviceTrackerModuleRootOptions,
} from './device-tracker.module-definition.js';
export { DEVICES_TABLE } from './device-tracker.constants.js';
export {
  toAdminDeviceView,
  toDeviceView,
  type AdminDevicesPage,
  type AdminDeviceView,
  type DeviceSnapshot,
  type DeviceView,
} from './views/device-view.js';
export type * from './interfaces/index.js';
export {
  AddDeviceIpIndex1764500000000,
  AddDeviceRetentionIndexes1764300000000,
  AddDeviceSessions1764200000000,
  CreateDeviceTrackerDevices1764000000000,
  DEVICE_TRACKER_MIGRATIONS,
  ExactUserIds1764400000000,
  PartialDeviceIndexes1764600000000,
} from './persistence/migrations/index.js';
export { describeUserAgent, type DeviceType, type UserAgentInfo } from './user-agent/user-agent.js';
