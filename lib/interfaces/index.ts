export type { DeviceRequest } from './device-request.interface.js';
export type { TrackDeviceOptions } from './track-device-options.interface.js';
export type { TrackRefreshOptions } from './track-refresh-options.interface.js';
export type {
  DeviceIdCookieOptions,
  DeviceTrackerAdminOptions,
  DeviceTrackerModuleExtras,
  DeviceTrackerModuleOptions,
  DeviceTrackerOptionsFactory,
  MaxDevicesOptions,
  PruneScheduleOptions,
  RedisOptions,
  SessionStoreLike,
} from './device-tracker-options.interface.js';
export type { RevocationListener } from './revocation-notifier.interface.js';
