import type { CanActivate, Type } from '@nestjs/common';
import type { DeviceRequest } from './device-request.interface.js';

/** How the device id cookie is written. */
export interface DeviceIdCookieOptions {
  /** Cookie name. Default: `'device_id'`. */
  name?: string;
  /** Lifetime in milliseconds. Default: 400 days, the longest browsers keep a cookie. */
  maxAge?: number;
  /** `Secure` attribute. Default: set when the request came over HTTPS (`request.secure`/`request.protocol`). */
  secure?: boolean;
  /** `SameSite` attribute. Default: `'lax'`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** Cookie path. Default: `'/'`. */
  path?: string;
  /** Cookie domain. Default: none (the host that answered). */
  domain?: string;
}

/**
 * Options of `DeviceTrackerModule.forRoot()` / `forRootAsync()`. Every field is optional; the defaults suit an app
 * that authenticates with `@nestjs/passport`'s `AuthGuard('jwt')` and returns `{ access_token, refresh_token }`
 * from its login route.
 */
export interface DeviceTrackerModuleOptions {
  /**
   * Guard that authenticates callers of the devices endpoints: a guard class (instantiated by Nest, so it may
   * inject global providers) or an instance. It must set `request.user`.
   * Default: `AuthGuard('jwt')` from `@nestjs/passport`.
   */
  authGuard?: Type<CanActivate> | CanActivate;
  /**
   * Cookie that carries the device id back to browsers so their next login updates the same device row,
   * or `false` to write none. Default: an httpOnly cookie named `device_id` (see {@link DeviceIdCookieOptions}).
   */
  deviceIdCookie?: DeviceIdCookieOptions | false;
  /**
   * Request and response header that carries the device id, for clients that do not keep cookies (mobile apps,
   * CLIs), or `false` to neither read nor write it. Default: `'x-device-id'`.
   */
  deviceIdHeader?: string | false;
  /**
   * Claim of the authenticated user (`request.user`, e.g. the access token's payload) that names the device the
   * request comes from. It takes precedence over the cookie and header when marking `isCurrent`.
   * Default: `'sid'`.
   */
  sessionClaim?: string;
  /**
   * Finds the user id on an authenticated request.
   * Default: `request.user.id ?? request.user.sub ?? request.user.userId`.
   */
  getUserId?: (request: DeviceRequest) => string | number | undefined | null;
  /**
   * Finds the refresh token (signed JWT or its `jti`) in the login handler's result.
   * Default: `result.refresh_token ?? result.refreshToken`.
   */
  getRefreshToken?: (result: unknown) => string | undefined | null;
  /**
   * How many parsed user agents are kept in memory so repeated agents are not parsed again; `0` keeps none.
   * Default: `1000`.
   */
  userAgentCacheSize?: number;
}

/** Options fixed when the module is defined: they shape its routes and scope, so they cannot come from a factory. */
export interface DeviceTrackerModuleExtras {
  /** Make `DeviceService` and the interceptor injectable in every module. Default: `true`. */
  isGlobal?: boolean;
  /**
   * Path of the devices controller, below the host's global prefix, or `false` to mount no routes and use
   * `DeviceService` from your own controllers. Default: `'devices'`.
   */
  path?: string | false;
}

/** Implemented by a class given to `forRootAsync({ useClass })` or `forRootAsync({ useExisting })`. */
export interface DeviceTrackerOptionsFactory {
  createDeviceTrackerOptions(): DeviceTrackerModuleOptions | Promise<DeviceTrackerModuleOptions>;
}
