const ONE_HOUR_MS = 60 * 60 * 1000;
const ONE_DAY_MS = 24 * ONE_HOUR_MS;

/**
 * Every default of the module's options, in one place: `resolveDeviceTrackerOptions` applies these, the options'
 * JSDoc and the README's options table quote them, and a unit test checks that both agree with this object.
 */
export const DEFAULTS = {
  deviceIdCookie: { name: 'device_id', maxAge: 400 * ONE_DAY_MS, sameSite: 'lax', path: '/' },
  deviceIdHeader: 'x-device-id',
  sessionClaim: 'sid',
  withoutSession: 'deny',
  /** Without `withoutSession` set (and without `sessionCheck: 'app'`), the module's own endpoints serve the user. */
  ownEndpointsWithoutSession: 'allow',
  sessionCheck: 'guard',
  runMigrations: true,
  redisChannel: 'device-tracker:revocations',
  sessionCacheSize: 10_000,
  sessionCacheTtl: 30_000,
  revokedSessionTtl: ONE_HOUR_MS,
  refreshReuseGrace: 10_000,
  lastSeenInterval: 60_000,
  maxDevicesPolicy: 'evict-oldest',
  whenTrackingFails: 'allow',
  trackingRetries: 6,
  whenSessionCheckFails: 'refuse',
  storeIpAddress: 'full',
  storeRefreshTokenId: 'with-session',
  pruneEvery: ONE_DAY_MS,
  pruneBatchSize: 500,
  userAgentCacheSize: 1000,
  jwtAlgorithm: 'HS256',
  jwtClockTolerance: 0,
  jwtCacheSize: 10_000,
  path: 'devices',
  adminPath: 'admin/devices',
  isGlobal: true,
} as const;
