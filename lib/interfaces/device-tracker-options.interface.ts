import type { CanActivate, Type } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { TrackDeviceInterceptor } from '../interceptors/track-device.interceptor.js';
import type { DeviceRequest } from './device-request.interface.js';
import type { RedisConnection } from '../revocation/redis-revocation-notifier.js';
import type { RevocationNotifier } from './revocation-notifier.interface.js';

/** The one call the module makes on a session store: express-session's (`MemoryStore`, connect-redis…) or @fastify/session's. */
export interface SessionStoreLike {
  destroy(sessionId: string, callback: (error?: unknown) => void): void;
}

/** Where logouts are announced to the other instances: a Redis server, or a connection of the app's. */
export interface RedisOptions {
  /** A `redis://` or `rediss://` URL: the module connects, and closes the connection when it stops. */
  url?: string;
  /** The app's own ioredis client: the module publishes through it and leaves it open. */
  client?: RedisConnection;
  /** Pub/sub channel; instances that must agree use the same one. Default: `'device-tracker:revocations'`. */
  channel?: string;
}

/** The signing algorithms `DeviceJwtGuard` can be told to accept (never `none`). */
export type JwtAlgorithm =
  'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** The access tokens `DeviceJwtGuard` accepts, checked as passport-jwt checks them (jsonwebtoken, `exp`, `nbf`). */
export interface DeviceJwtOptions {
  /** HMAC secret of HS256/384/512 tokens: a string, a Buffer or a secret `KeyObject`. Give this or `publicKey`. */
  secret?: string | Buffer | KeyObject;
  /** Public key of RS, PS or ES tokens: PEM (string or Buffer) or a public `KeyObject`. Give this or `secret`. */
  publicKey?: string | Buffer | KeyObject;
  /** The algorithms a token may be signed with; any other is refused. Default: `'HS256'` with `secret`; required with `publicKey`. */
  algorithms?: JwtAlgorithm[];
  /** The `iss` a token must carry (one of these). Default: not checked. */
  issuer?: string | string[];
  /** The `aud` a token must carry (one of these). Default: not checked. */
  audience?: string | string[];
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default: `0`. */
  clockTolerance?: number;
  /**
   * How many tokens that passed verification each instance remembers, by their whole text: a client sends the same
   * token with every request, and a token seen again skips the signature check (its `exp` is still checked on each
   * request). `0` verifies every request afresh. Default: `10000`.
   */
  cacheSize?: number;
}

/** A retention schedule: `DeviceService.prune()` run every `every` milliseconds. */
export interface PruneScheduleOptions {
  /** Delete devices not seen for this many milliseconds, active or not. */
  inactiveFor: number;
  /** Delete logged-out devices logged out this many milliseconds ago. Default: `inactiveFor`. */
  loggedOutFor?: number;
  /** Milliseconds between two passes. Default: `86400000` (one day). */
  every?: number;
  /** Rows deleted per statement. Default: `500`. */
  batchSize?: number;
}

/** What happens to a login when the user already has `limit` active devices. */
export interface MaxDevicesOptions {
  /** Most active devices a user may have at once; a whole number >= 1. */
  limit: number;
  /**
   * `'evict-oldest'` logs out the devices least recently seen to make room; `'reject'` refuses the login with
   * 403 until the user logs a device out. Default: `'evict-oldest'`.
   */
  policy?: 'evict-oldest' | 'reject';
}

/** How the device id cookie is written. */
export interface DeviceIdCookieOptions {
  /** Cookie name. Default: `'device_id'`. */
  name?: string;
  /** Lifetime in milliseconds. Default: `34560000000` (400 days, the longest browsers keep a cookie). */
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
   * The access tokens `DeviceJwtGuard` verifies: it authenticates and checks the device session in one step, in place
   * of `AuthGuard('jwt')` + `DeviceSessionGuard`, and becomes the default `authGuard`. Default: none (passport).
   */
  jwt?: DeviceJwtOptions;
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
   * Claim of the authenticated user (`request.user`, e.g. the access token's payload) that carries the device
   * session: the `sessionId` that `@CurrentDevice()` hands the login handler to sign into both tokens.
   * Default: `'sid'`.
   */
  sessionClaim?: string;
  /**
   * What a session check your app asked for (`DeviceSessionGuard`, `sessionCheck: 'app'`) does with an authenticated
   * request that carries no session (a token signed without `...device.claims`): `'deny'` answers 401 naming the fix,
   * `'allow'` lets it through unchecked. Set, or with `sessionCheck: 'app'`, the module's own endpoints follow it too;
   * otherwise they serve such a token (the current device is the one the request presents) and warn once.
   * Default: `'deny'`.
   */
  withoutSession?: 'allow' | 'deny';
  /**
   * How many sessions each instance remembers, as active or as logged out, so most requests need no database
   * round trip. Default: `10000`.
   */
  sessionCacheSize?: number;
  /**
   * Milliseconds an instance trusts a cached "still active" without asking the database again. A logout is seen
   * at once by the instance that did it and, through `revocationNotifier`, by the others; this only bounds how
   * long an instance can miss one whose announcement did not reach it. `0` asks the database on every request.
   * Default: `30000`.
   */
  sessionCacheTtl?: number;
  /**
   * Milliseconds a logged-out session is remembered without asking the database; set it to your access tokens'
   * lifetime. Forgetting earlier is safe (the database still says no), only slower. Default: `3600000` (one hour).
   */
  revokedSessionTtl?: number;
  /**
   * Tells the other app instances about logouts. Default: an in-process notifier, right for one instance; set
   * `redis` (or give `new RedisRevocationNotifier(client)` here) when several instances serve the same users.
   */
  revocationNotifier?: RevocationNotifier;
  /**
   * Several instances: logouts reach every one of them at once through Redis pub/sub (`ioredis` must be installed).
   * A URL (`'redis://127.0.0.1:6379'`), the app's ioredis client, or {@link RedisOptions}. Not with
   * `revocationNotifier`. Default: none (one instance).
   */
  redis?: string | RedisConnection | RedisOptions;
  /**
   * Where device sessions are checked: `'app'` checks every authenticated HTTP request app-wide, after the app's own
   * guards (exempt a route with `@SkipDeviceSession()`; the `@TrackDevice()` and `@TrackRefresh()` routes are), so a
   * logged-out device's access token is refused on every route at once; `'guard'` checks only where you put
   * `DeviceSessionGuard`. Default: `'guard'`.
   */
  sessionCheck?: 'app' | 'guard';
  /**
   * The module registers its `Device` entity on your default TypeORM connection and brings its table up to date at
   * start, from its own migrations table (`device_tracker_migrations`): your TypeORM options need neither
   * `autoLoadEntities` nor its migrations. `false` when you run `DEVICE_TRACKER_MIGRATIONS` yourself; they are left to
   * you anyway when your connection lists them. Default: `true`.
   */
  runMigrations?: boolean;
  /**
   * Milliseconds after a refresh during which the refresh token it replaced is still accepted, so concurrent
   * refreshes by one client are not mistaken for theft (the tokens they are given all stay usable until the device
   * rotates again). Presenting a replaced token later logs the device out. Default: `10000`.
   */
  refreshReuseGrace?: number;
  /**
   * `DeviceSessionGuard` records `lastSeenAt` and the IP address of each authenticated request, at most once per
   * device in this many milliseconds, after the response; `false` records only logins and refreshes.
   * Default: `60000`.
   */
  lastSeenInterval?: number | false;
  /** Cap on each user's active devices. Default: no cap. */
  maxDevices?: MaxDevicesOptions;
  /**
   * The app's session store (express-session, or @fastify/session on Fastify), for apps that sign users in with
   * sessions rather than tokens. A device tracked on a request with a session is tied to that session
   * (`request.sessionID`, or `request.session.sessionId` with @fastify/session), and logging the device out destroys
   * the session in this store, so its cookie stops working. Default: none.
   */
  sessionStore?: SessionStoreLike;
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
   * What a login does when its device cannot be recorded (the database is unreachable): `'allow'` answers as the
   * handler did and retries the write in the background (see `trackingRetries`); `'refuse'` answers 503 instead.
   * Default: `'allow'`.
   */
  whenTrackingFails?: 'allow' | 'refuse';
  /**
   * How many times a failed tracking write is retried, with exponential backoff from 250 ms up to 8 s between
   * attempts; `0` never retries. Until it lands, the login's tokens are refused by `DeviceSessionGuard`.
   * Default: `6` (about 16 s).
   */
  trackingRetries?: number;
  /**
   * What `DeviceSessionGuard` does when a session is not cached and the database cannot be asked: `'refuse'`
   * answers 503 (it fails closed); `'allow'` lets the request through unchecked (and `@CurrentDevice()` is then
   * undefined). Default: `'refuse'`.
   */
  whenSessionCheckFails?: 'refuse' | 'allow';
  /**
   * How much of each client IP address is stored (and put in events): `'full'`; `'truncated'` to its network, a /24
   * for IPv4 and a /48 for IPv6 (`192.0.2.0`, `2001:db8:abcd::`), for apps that must minimise personal data; or
   * `'none'`. Default: `'full'`.
   */
  storeIpAddress?: 'full' | 'truncated' | 'none';
  /**
   * How a refresh token that carries the session claim is stored: `'with-session'`, as `<session>/<digest>`, at the
   * end of its index (a new login's row costs SQLite about 40 % less), or `'digest'`, as 0.4 stored it. Both are read
   * either way. Use `'digest'` while instances of 0.4 still run (a rolling upgrade), and before going back to 0.4, which
   * takes a token stored with its session for a replayed one and logs the device out. Default: `'with-session'`.
   */
  storeRefreshTokenId?: 'with-session' | 'digest';
  /**
   * Deletes old devices on a schedule, through `@nestjs/schedule` (install it and import `ScheduleModule.forRoot()`).
   * Default: no schedule; call `DeviceService.prune()` yourself if you like.
   */
  prune?: PruneScheduleOptions;
  /**
   * How many parsed user agents are kept in memory so repeated agents are not parsed again; `0` keeps none.
   * Default: `1000`.
   */
  userAgentCacheSize?: number;
}

/** The admin endpoints: every user's devices, listed and logged out by an administrator. */
export interface DeviceTrackerAdminOptions {
  /**
   * Lets only administrators through. It runs after `authGuard` and `DeviceSessionGuard`, so `request.user` is set
   * and its device is still logged in. A guard class (the app's own provider when it registers one, otherwise built
   * by Nest, so it may inject global providers) or an instance. Required: there is no default notion of an admin.
   */
  guard: Type<CanActivate> | CanActivate;
  /** Path of the admin controller, below the host's global prefix; not the same as `path`. Default: `'admin/devices'`. */
  path?: string;
}

/** Options fixed when the module is defined: they shape its routes and scope, so they cannot come from a factory. */
export interface DeviceTrackerModuleExtras {
  /** Make `DeviceService` and `DeviceSessionGuard` usable in every module. Default: `true`. */
  isGlobal?: boolean;
  /**
   * Path of the devices controller, below the host's global prefix, or `false` to mount none of the user's routes and
   * use `DeviceService` from your own controllers (`admin` mounts its own). Default: `'devices'`.
   */
  path?: string | false;
  /**
   * Mounts the admin endpoints (list every user's devices with filters, log out any device or all of a user's),
   * behind `authGuard`, `DeviceSessionGuard` and `admin.guard`. Default: none mounted.
   */
  admin?: DeviceTrackerAdminOptions;
  /**
   * The interceptor behind `@TrackDevice()`, registered app-wide: a subclass of `TrackDeviceInterceptor` that
   * overrides some of its protected steps. Default: `TrackDeviceInterceptor`.
   */
  interceptor?: Type<TrackDeviceInterceptor>;
}

/** Implemented by a class given to `forRootAsync({ useClass })` or `forRootAsync({ useExisting })`. */
export interface DeviceTrackerOptionsFactory {
  createDeviceTrackerOptions(): DeviceTrackerModuleOptions | Promise<DeviceTrackerModuleOptions>;
}
