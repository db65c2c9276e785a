import type { DeviceTrackerModuleOptions } from './device-tracker-options.interface.js';

/** Per-route options of `@TrackDevice()`; each one overrides the module option of the same name. */
export type TrackDeviceOptions = Pick<DeviceTrackerModuleOptions, 'getUserId' | 'getRefreshToken'>;
