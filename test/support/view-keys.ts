/** The fields the user endpoints show of a device: nothing secret (no token, digest or session id). */
export const DEVICE_VIEW_KEYS = [
  'browser',
  'createdAt',
  'deviceName',
  'deviceType',
  'id',
  'ipAddress',
  'isActive',
  'isCurrent',
  'lastLoginAt',
  'lastSeenAt',
  'os',
  'userAgent',
].toSorted();

/** What the admin endpoints show: the same, the owner, and when the device was logged out. */
export const ADMIN_DEVICE_VIEW_KEYS = [...DEVICE_VIEW_KEYS, 'revokedAt', 'userId'].toSorted();

/** What events carry: the admin view without `isCurrent`, which only means something for a request. */
export const SNAPSHOT_KEYS = ADMIN_DEVICE_VIEW_KEYS.filter((key) => key !== 'isCurrent');
