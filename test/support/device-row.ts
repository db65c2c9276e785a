import { randomUUID } from 'node:crypto';
import { Device } from 'nestjs-device-tracker';

/**
 * A device row as the module writes one at a login, seen at `seenAt`, for suites that need more devices than it is
 * worth signing in for; `fields` overrides any column.
 */
export function deviceRow(userId: string, seenAt: Date, fields: Partial<Device> = {}): Device {
  return Object.assign(new Device(), {
    id: randomUUID(),
    userId,
    userAgent: '',
    deviceName: 'Unknown device',
    browser: null,
    os: null,
    deviceType: 'unknown',
    ipAddress: null,
    refreshTokenJti: null,
    sessionId: randomUUID(),
    previousRefreshTokenJti: null,
    concurrentRefreshTokenJti: null,
    refreshTokenRotatedAt: null,
    isActive: true,
    createdAt: seenAt,
    lastLoginAt: seenAt,
    lastSeenAt: seenAt,
    revokedAt: null,
    ...fields,
  } satisfies Device);
}
