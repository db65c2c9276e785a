/**
 * Shared by the unit specs of the device id and the session claim (device-id.read, device-id.write, session-claim):
 * a device id, the default options and a bare request.
 */
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

export const DEVICE_ID = 'b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c';

export const defaults = resolveDeviceTrackerOptions();

export function request(parts: Partial<DeviceRequest> = {}): DeviceRequest {
  return { headers: {}, ...parts };
}
