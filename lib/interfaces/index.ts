export type { DeviceRequest } from './device-request.interface.js';
export type { TrackDeviceOptions } from './track-device-options.interface.js';
export type { TrackRefreshOptions } from './track-refresh-options.interface.js';
export type {
  DeviceIdCookieOptions,
  DeviceJwtOptions,
  DeviceTrackerAdminOptions,
  DeviceTrackerModuleExtras,
  DeviceTrackerModuleOptions,
  DeviceTrackerOptionsFactory,
  JwtAlgorithm,
  MaxDevicesOptions,
  PruneScheduleOptions,
  RedisOptions,
  SessionStoreLike,
} from './device-tracker-options.interface.js';
export type { RevocationListener } from './revocation-notifier.interface.js';
