import type { CanActivate, Type } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import type {
  DeviceIdCookieOptions,
  DeviceTrackerModuleOptions,
} from './interfaces/device-tracker-options.interface.js';

export type ResolvedCookieOptions = Required<Omit<DeviceIdCookieOptions, 'secure' | 'domain'>> &
  Pick<DeviceIdCookieOptions, 'secure' | 'domain'>;

/** {@link DeviceTrackerModuleOptions} with every default applied. */
export interface ResolvedDeviceTrackerOptions {
  authGuard: Type<CanActivate> | CanActivate;
  deviceIdCookie: ResolvedCookieOptions | false;
  deviceIdHeader: string | false;
  sessionClaim: string;
  getUserId: NonNullable<DeviceTrackerModuleOptions['getUserId']>;
  getRefreshToken: NonNullable<DeviceTrackerModuleOptions['getRefreshToken']>;
  userAgentCacheSize: number;
}

const FOUR_HUNDRED_DAYS_MS = 400 * 24 * 60 * 60 * 1000;

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

/** Normalises a user id to the string the entity stores; `undefined` when there is no usable id. */
export function normaliseUserId(id: string | number | undefined | null): string | undefined {
  if (typeof id === 'number') return Number.isFinite(id) ? String(id) : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}

/** The one place defaults are applied. */
export function resolveDeviceTrackerOptions(options: DeviceTrackerModuleOptions = {}): ResolvedDeviceTrackerOptions {
  const cookie = options.deviceIdCookie;
  const cacheSize = options.userAgentCacheSize ?? 1000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new Error(`DeviceTrackerModule: userAgentCacheSize must be a whole number >= 0 (got ${cacheSize})`);
  }
  return {
    authGuard: options.authGuard ?? AuthGuard('jwt'),
    deviceIdCookie:
      cookie === false
        ? false
        : withDefaults<ResolvedCookieOptions>(
            { name: 'device_id', maxAge: FOUR_HUNDRED_DAYS_MS, sameSite: 'lax', path: '/' },
            cookie,
          ),
    deviceIdHeader: options.deviceIdHeader === false ? false : (options.deviceIdHeader ?? 'x-device-id').toLowerCase(),
    sessionClaim: options.sessionClaim ?? 'sid',
    getUserId: options.getUserId ?? defaultUserId,
    getRefreshToken: options.getRefreshToken ?? defaultRefreshToken,
    userAgentCacheSize: cacheSize,
  };
}
