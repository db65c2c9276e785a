import { CreateDeviceTrackerDevices1764000000000 } from './1764000000000-create-device-tracker-devices.js';
import { AddDeviceSessions1764200000000 } from './1764200000000-add-device-sessions.js';
import { AddDeviceRetentionIndexes1764300000000 } from './1764300000000-add-device-retention-indexes.js';
import { ExactUserIds1764400000000 } from './1764400000000-exact-user-ids.js';
import { AddDeviceIpIndex1764500000000 } from './1764500000000-add-device-ip-index.js';
import { PartialDeviceIndexes1764600000000 } from './1764600000000-partial-device-indexes.js';

/**
 * The module's migrations, oldest first. Add them to the host's DataSource:
 * `migrations: [...DEVICE_TRACKER_MIGRATIONS, ...yourOwn]`.
 */
export const DEVICE_TRACKER_MIGRATIONS = [
  CreateDeviceTrackerDevices1764000000000,
  AddDeviceSessions1764200000000,
  AddDeviceRetentionIndexes1764300000000,
  ExactUserIds1764400000000,
  AddDeviceIpIndex1764500000000,
  PartialDeviceIndexes1764600000000,
];

export {
  AddDeviceIpIndex1764500000000,
  AddDeviceRetentionIndexes1764300000000,
  AddDeviceSessions1764200000000,
  CreateDeviceTrackerDevices1764000000000,
  ExactUserIds1764400000000,
  PartialDeviceIndexes1764600000000,
};
