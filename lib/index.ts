export { TrackDevice } from './decorators/track-device.decorator.js';
export { Device } from './device.entity.js';
export { DeviceService, type UserId } from './device.service.js';
export { DeviceTrackerModule } from './device-tracker.module.js';
export type {
  DeviceTrackerModuleAsyncOptions,
  DeviceTrackerModuleRootOptions,
} from './device-tracker.module-definition.js';
export { DEVICES_TABLE } from './device-tracker.constants.js';
export { DevicesController } from './devices.controller.js';
export { toDeviceView, type DeviceView } from './device-view.js';
export type * from './interfaces/index.js';
export { CreateDeviceTrackerDevices1764000000000, DEVICE_TRACKER_MIGRATIONS } from './migrations/index.js';
export { describeUserAgent, type DeviceType, type UserAgentInfo } from './user-agent.js';
