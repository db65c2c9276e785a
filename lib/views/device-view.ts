import type { Device } from '../persistence/device.entity.js';
import type { DeviceType } from '../user-agent/user-agent.js';

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

/** A device as the admin endpoints show it: what its owner sees, who the owner is, and when it was logged out. */
export interface AdminDeviceView extends DeviceView {
  userId: string;
  /** When the device was logged out; null while it is active. */
  revokedAt: Date | null;
}

/** A page of the admin listing. */
export interface AdminDevicesPage {
  items: AdminDeviceView[];
  /** How many devices match the filters, on every page together. */
  total: number;
  limit: number;
  offset: number;
}

/** A device as events carry it: the public fields and the owner, never a token id or session id. */
export type DeviceSnapshot = Omit<AdminDeviceView, 'isCurrent'>;

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
  return { ...toDeviceView(device, currentDeviceId), userId: device.userId, revokedAt: device.revokedAt };
}

export function toDeviceSnapshot(device: Device): DeviceSnapshot {
  const { isCurrent: _isCurrent, ...view } = toAdminDeviceView(device, undefined);
  return view;
}
