import type { DeviceSnapshot } from '../views/device-view.js';

/**
 * Names of the events the module emits through `@nestjs/event-emitter`, when the host has imported
 * `EventEmitterModule`. Listen with `@OnEvent(DeviceTrackerEvents.DEVICE_LOGGED_OUT)`. Payloads never carry tokens,
 * token ids or session ids.
 */
export const DeviceTrackerEvents = {
  /** A login from a device the user had not used before. Payload: {@link DeviceCreatedEvent}. */
  DEVICE_CREATED: 'device-tracker.device.created',
  /**
   * A device was logged out, by its user, an administrator, an eviction or a detected theft. Payload:
   * {@link DeviceLoggedOutEvent}.
   */
  DEVICE_LOGGED_OUT: 'device-tracker.device.logged-out',
  /** A refresh token was presented after it had been replaced. Payload: {@link RefreshTokenReuseDetectedEvent}. */
  REFRESH_TOKEN_REUSE_DETECTED: 'device-tracker.refresh-token.reuse-detected',
  /** A login found the user at `maxDevices.limit`. Payload: {@link MaxDevicesExceededEvent}. */
  MAX_DEVICES_EXCEEDED: 'device-tracker.max-devices.exceeded',
} as const;

/** Why a device was logged out; `'admin'`: through the admin endpoints (or `DeviceService.logoutById`). */
export type DeviceLogoutReason =
  'logout' | 'logout-others' | 'logout-all' | 'evicted' | 'refresh-token-reuse' | 'admin';

export interface DeviceCreatedEvent {
  device: DeviceSnapshot;
}

export interface DeviceLoggedOutEvent {
  device: DeviceSnapshot;
  reason: DeviceLogoutReason;
}

export interface RefreshTokenReuseDetectedEvent {
  /** The device whose replaced token came back; it has been logged out. */
  device: DeviceSnapshot;
  /** Where the replayed token came from: the thief or the victim, there is no telling which. */
  ipAddress: string | null;
  userAgent: string;
}

export interface MaxDevicesExceededEvent {
  userId: string;
  limit: number;
  policy: 'evict-oldest' | 'reject';
  /** The devices logged out to make room (`'evict-oldest'`); empty when the login was refused. */
  evicted: DeviceSnapshot[];
}
