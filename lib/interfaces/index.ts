export type { DeviceRequest } from './device-request.interface.js';
export type { TrackDeviceOptions } from './track-device-options.interface.js';
export type {
  DeviceIdCookieOptions,
  DeviceTrackerModuleExtras,
  DeviceTrackerModuleOptions,
  DeviceTrackerOptionsFactory,
} from './device-tracker-options.interface.js';
