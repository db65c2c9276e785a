import { CreateDeviceTrackerDevices1764000000000 } from './1764000000000-create-device-tracker-devices.js';

/**
 * The module's migrations, oldest first. Add them to the host's DataSource:
 * `migrations: [...DEVICE_TRACKER_MIGRATIONS, ...yourOwn]`.
 */
export const DEVICE_TRACKER_MIGRATIONS = [CreateDeviceTrackerDevices1764000000000];

export { CreateDeviceTrackerDevices1764000000000 };
