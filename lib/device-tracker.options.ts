import type { CanActivate, Type } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { MAX_PRUNE_AGE_MS, MAX_PRUNE_BATCH_SIZE, MAX_TIMER_DELAY_MS } from './device-tracker.constants.js';
import { DEFAULTS } from './device-tracker.defaults.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import { isRedisConnection } from './revocation/redis-revocation-notifier.js';
import { normaliseUserId } from './values/user-id.js';
import type {
  DeviceIdCookieOptions,
  DeviceTrackerModuleOptions,
  PruneScheduleOptions,
  RedisOptions,
  SessionStoreLike,
} from './interfaces/device-tracker-options.interface.js';

export type ResolvedCookieOptions = Required<Omit<DeviceIdCookieOptions, 'secure' | 'domain'>> &
  Pick<DeviceIdCookieOptions, 'secure' | 'domain'>;

/**
 * {@link DeviceTrackerModuleOptions} with every default applied. The seams (`revocationNotifier`) are not here: they
 * are providers of their own (see device-tracker.providers.ts).
 */
export interface ResolvedDeviceTrackerOptions {
  authGuard: Type<CanActivate> | CanActivate;
  deviceIdCookie: ResolvedCookieOptions | false;
  deviceIdHeader: string | false;
  sessionClaim: string;
  withoutSession: 'allow' | 'deny';
  sessionCheck: 'app' | 'guard';
  runMigrations: boolean;
  /** What the module's own endpoints do without a session claim: `withoutSession` when set, else serve the user. */
  ownEndpointsWithoutSession: 'allow' | 'deny';
  sessionCacheSize: number;
  sessionCacheTtl: number;
  revokedSessionTtl: number;
  refreshReuseGrace: number;
  lastSeenInterval: number | false;
  maxDevices: Required<NonNullable<DeviceTrackerModuleOptions['maxDevices']>> | undefined;
  sessionStore: SessionStoreLike | undefined;
  storeIpAddress: 'full' | 'truncated' | 'none';
  storeRefreshTokenId: 'with-session' | 'digest';
  prune: Required<PruneScheduleOptions> | undefined;
  whenTrackingFails: 'allow' | 'refuse';
  trackingRetries: number;
  whenSessionCheckFails: 'refuse' | 'allow';
  getUserId: NonNullable<DeviceTrackerModuleOptions['getUserId']>;
  getRefreshToken: NonNullable<DeviceTrackerModuleOptions['getRefreshToken']>;
  userAgentCacheSize: number;
}

/** The first of `names` on `value` that passes `accept`. */
function field<T>(value: unknown, names: string[], accept: (candidate: unknown) => candidate is T): T | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  return names.map((name) => record[name]).find(accept);
}

const isUserId = (candidate: unknown): candidate is string | number =>
  normaliseUserId(candidate as string | number) !== undefined;
const isToken = (candidate: unknown): candidate is string => typeof candidate === 'string' && candidate.length > 0;

/** Default user id lookup: the first usable of `request.user.id`, `request.user.sub`, `request.user.userId`. */
export function defaultUserId(request: DeviceRequest): string | number | undefined {
  return field(request.user, ['id', 'sub', 'userId'], isUserId);
}

/** Default refresh token lookup: `result.refresh_token ?? result.refreshToken`. */
export function defaultRefreshToken(result: unknown): string | undefined {
  return field(result, ['refresh_token', 'refreshToken'], isToken);
}

/** `overrides` on top of `defaults`, where an override left `undefined` keeps the default. */
function withDefaults<T extends object>(defaults: T, overrides: Partial<T> = {}): T {
  const defined = Object.entries(overrides).filter(([, value]) => value !== undefined);
  return { ...defaults, ...Object.fromEntries(defined) };
}

/** RFC 9110 token: what a header or cookie name may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~\w-]+$/;

/** Fails the start with `message`, which names the option at fault. */
export function invalid(message: string): never {
  throw new Error(`DeviceTrackerModule: ${message}`);
}

function resolveCookie(cookie: DeviceIdCookieOptions | undefined): ResolvedCookieOptions {
  const resolved = withDefaults<ResolvedCookieOptions>({ ...DEFAULTS.deviceIdCookie }, cookie);
  if (!TOKEN.test(resolved.name)) invalid(`deviceIdCookie.name is not a valid cookie name (${resolved.name})`);
  if (!Number.isFinite(resolved.maxAge) || resolved.maxAge < 0) {
    invalid(`deviceIdCookie.maxAge must be a number of milliseconds >= 0 (got ${resolved.maxAge})`);
  }
  if (resolved.sameSite === 'none') {
    // Browsers drop a SameSite=None cookie that is not Secure.
    if (resolved.secure === false) invalid('deviceIdCookie.sameSite "none" needs secure cookies');
    resolved.secure = true;
  }
  return resolved;
}

function resolveHeader(header: string | false | undefined): string | false {
  if (header === false) return false;
  const name = (header ?? DEFAULTS.deviceIdHeader).toLowerCase();
  return TOKEN.test(name) ? name : invalid(`deviceIdHeader is not a valid header name (${name})`);
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    invalid(`${name} must be true or false (got ${String(value)})`);
  }
  return value ?? fallback;
}

const isRedisUrl = (value: unknown): boolean => typeof value === 'string' && /^rediss?:\/\/\S+$/.test(value);

/** `redis`: a URL, a client, or `{ url | client, channel }`; and not next to a `revocationNotifier`. */
function checkRedis({ redis, revocationNotifier }: DeviceTrackerModuleOptions): void {
  if (redis === undefined) return;
  if (revocationNotifier !== undefined) invalid('give redis or revocationNotifier, not both');
  if (isRedisUrl(redis) || isRedisConnection(redis)) return;
  const { url, client, channel } = (typeof redis === 'object' && redis !== null ? redis : {}) as RedisOptions;
  const one = (url !== undefined) !== (client !== undefined);
  if (!one || (url !== undefined && !isRedisUrl(url)) || (client !== undefined && !isRedisConnection(client))) {
    invalid('redis must be a redis:// URL, an ioredis client, or { url } or { client } with an optional channel');
  }
  if (channel !== undefined && !(typeof channel === 'string' && channel.length > 0)) {
    invalid('redis.channel must be a non-empty string');
  }
}

/** `value`, or `fallback` when it is undefined, after checking it is a whole number >= `min`. */
function wholeNumber(name: string, value: number | undefined, fallback: number, min = 0, max = Infinity): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min) {
    invalid(`${name} must be a whole number >= ${min} (got ${resolved})`);
  }
  if (resolved > max) invalid(`${name} must be at most ${max} (got ${resolved})`);
  return resolved;
}

function oneOf<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  const resolved = value ?? fallback;
  if (!allowed.includes(resolved)) invalid(`${name} must be one of ${allowed.join(', ')} (got ${resolved})`);
  return resolved;
}

function resolveMaxDevices(
  maxDevices: DeviceTrackerModuleOptions['maxDevices'],
): ResolvedDeviceTrackerOptions['maxDevices'] {
  if (maxDevices === undefined || maxDevices === null) return undefined;
  return {
    limit: wholeNumber('maxDevices.limit', maxDevices.limit, Number.NaN, 1),
    policy: oneOf('maxDevices.policy', maxDevices.policy, DEFAULTS.maxDevicesPolicy, [
      'evict-oldest',
      'reject',
    ] as const),
  };
}

function resolvePrune(prune: PruneScheduleOptions | undefined): ResolvedDeviceTrackerOptions['prune'] {
  if (prune === undefined || prune === null) return undefined;
  const inactiveFor = wholeNumber('prune.inactiveFor', prune.inactiveFor, Number.NaN, 1, MAX_PRUNE_AGE_MS);
  return {
    inactiveFor,
    loggedOutFor: wholeNumber('prune.loggedOutFor', prune.loggedOutFor, inactiveFor, 1, MAX_PRUNE_AGE_MS),
    every: wholeNumber('prune.every', prune.every, DEFAULTS.pruneEvery, 1000, MAX_TIMER_DELAY_MS),
    batchSize: wholeNumber('prune.batchSize', prune.batchSize, DEFAULTS.pruneBatchSize, 1, MAX_PRUNE_BATCH_SIZE),
  };
}

/** The one place defaults are applied and options are checked, so a bad option fails the start, not a login. */
export function resolveDeviceTrackerOptions(options: DeviceTrackerModuleOptions = {}): ResolvedDeviceTrackerOptions {
  const notifier = options.revocationNotifier;
  if (
    notifier !== undefined &&
    !(['publish', 'subscribe', 'isListening', 'close'] as const).every((name) => typeof notifier?.[name] === 'function')
  ) {
    invalid('revocationNotifier must implement RevocationNotifier (publish, subscribe, isListening, close)');
  }
  checkRedis(options);
  if (options.sessionStore !== undefined && typeof options.sessionStore?.destroy !== 'function') {
    invalid('sessionStore must be an express-session store (it has no destroy method)');
  }
  const lastSeenInterval = options.lastSeenInterval;
  return {
    authGuard: options.authGuard ?? AuthGuard('jwt'),
    deviceIdCookie: options.deviceIdCookie === false ? false : resolveCookie(options.deviceIdCookie),
    deviceIdHeader: resolveHeader(options.deviceIdHeader),
    sessionClaim: options.sessionClaim ?? DEFAULTS.sessionClaim,
    withoutSession: oneOf('withoutSession', options.withoutSession, DEFAULTS.withoutSession, ['deny', 'allow']),
    ownEndpointsWithoutSession: options.withoutSession ?? DEFAULTS.ownEndpointsWithoutSession,
    sessionCheck: oneOf('sessionCheck', options.sessionCheck, DEFAULTS.sessionCheck, ['guard', 'app']),
    runMigrations: flag('runMigrations', options.runMigrations, DEFAULTS.runMigrations),
    sessionCacheSize: wholeNumber('sessionCacheSize', options.sessionCacheSize, DEFAULTS.sessionCacheSize),
    sessionCacheTtl: wholeNumber('sessionCacheTtl', options.sessionCacheTtl, DEFAULTS.sessionCacheTtl),
    revokedSessionTtl: wholeNumber('revokedSessionTtl', options.revokedSessionTtl, DEFAULTS.revokedSessionTtl, 1),
    refreshReuseGrace: wholeNumber('refreshReuseGrace', options.refreshReuseGrace, DEFAULTS.refreshReuseGrace),
    lastSeenInterval:
      lastSeenInterval === false
        ? false
        : wholeNumber('lastSeenInterval', lastSeenInterval, DEFAULTS.lastSeenInterval, 1000),
    maxDevices: resolveMaxDevices(options.maxDevices),
    sessionStore: options.sessionStore,
    prune: resolvePrune(options.prune),
    whenTrackingFails: oneOf('whenTrackingFails', options.whenTrackingFails, DEFAULTS.whenTrackingFails, [
      'allow',
      'refuse',
    ]),
    trackingRetries: wholeNumber('trackingRetries', options.trackingRetries, DEFAULTS.trackingRetries),
    whenSessionCheckFails: oneOf(
      'whenSessionCheckFails',
      options.whenSessionCheckFails,
      DEFAULTS.whenSessionCheckFails,
      ['refuse', 'allow'],
    ),
    storeIpAddress: oneOf('storeIpAddress', options.storeIpAddress, DEFAULTS.storeIpAddress, [
      'full',
      'truncated',
      'none',
    ]),
    storeRefreshTokenId: oneOf('storeRefreshTokenId', options.storeRefreshTokenId, DEFAULTS.storeRefreshTokenId, [
      'with-session',
      'digest',
    ]),
    getUserId: options.getUserId ?? defaultUserId,
    getRefreshToken: options.getRefreshToken ?? defaultRefreshToken,
    userAgentCacheSize: wholeNumber('userAgentCacheSize', options.userAgentCacheSize, DEFAULTS.userAgentCacheSize),
  };
}
