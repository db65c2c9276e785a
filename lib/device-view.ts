import type { Device } from './device.entity.js';
import type { DeviceType } from './user-agent.js';

/** A device as the API shows it to its owner: no refresh token digest, no session id. */
export interface DeviceView {
  id: string;
  deviceName: string;
  browser: string | null;
  os: string | null;
  deviceType: DeviceType;
  ipAddress: string | null;
  userAgent: string;
  createdAt: Date;
  lastLoginAt: Date;
  lastSeenAt: Date;
  isActive: boolean;
  /** True for the device the request came from. */
  isCurrent: boolean;
}

/** A device as the admin endpoints show it: what its owner sees, and who the owner is. */
export interface AdminDeviceView extends DeviceView {
  userId: string;
}

/** A device as events carry it: the public fields and the owner, never a token id or session id. */
export interface DeviceSnapshot extends Omit<DeviceView, 'isCurrent'> {
  userId: string;
  revokedAt: Date | null;
}

/** Copies the public fields one by one, so a column added to the entity is never exposed by accident. */
export function toDeviceView(device: Device, currentDeviceId: string | undefined): DeviceView {
  return {
    id: device.id,
    deviceName: device.deviceName,
    browser: device.browser,
    os: device.os,
    deviceType: device.deviceType,
    ipAddress: device.ipAddress,
    userAgent: device.userAgent,
    createdAt: device.createdAt,
    lastLoginAt: device.lastLoginAt,
    lastSeenAt: device.lastSeenAt,
    isActive: device.isActive,
    isCurrent: device.id === currentDeviceId,
  };
}

/** {@link toDeviceView} and the owner; `isCurrent` marks the administrator's own device. */
export function toAdminDeviceView(device: Device, currentDeviceId: string | undefined): AdminDeviceView {
  return { ...toDeviceView(device, currentDeviceId), userId: device.userId };
}

export function toDeviceSnapshot(device: Device): DeviceSnapshot {
  const { isCurrent: _isCurrent, ...view } = toDeviceView(device, undefined);
  return { ...view, userId: device.userId, revokedAt: device.revokedAt };
}
