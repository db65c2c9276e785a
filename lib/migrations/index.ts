import { CreateDeviceTrackerDevices1764000000000 } from './1764000000000-create-device-tracker-devices.js';
import { AddDeviceSessions1764200000000 } from './1764200000000-add-device-sessions.js';

/**
 * The module's migrations, oldest first. Add them to the host's DataSource:
 * `migrations: [...DEVICE_TRACKER_MIGRATIONS, ...yourOwn]`.
 */
export const DEVICE_TRACKER_MIGRATIONS = [CreateDeviceTrackerDevices1764000000000, AddDeviceSessions1764200000000];

export { AddDeviceSessions1764200000000, CreateDeviceTrackerDevices1764000000000 };
