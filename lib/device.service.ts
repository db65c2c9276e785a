import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS } from './device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import type { DeviceLogoutReason } from './events/device-tracker.events.js';
import { readClientInfo } from './http/client-info.js';
import { currentDeviceId } from './http/device-id.js';
import { normaliseDeviceId } from './values/device-id.js';
import { type DeviceSession, type SessionRef, withClaims } from './http/device-session.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import { LoginService } from './login/login.service.js';
import type { Device } from './persistence/device.entity.js';
import {
  DeviceQueries,
  type DeviceSearchFilters,
  type DeviceSearchResult,
  type ListDevicesOptions,
} from './queries/device-queries.service.js';
import { RefreshRotationService } from './refresh/refresh-rotation.service.js';
import { type PruneOptions, PruneService } from './retention/prune.service.js';
import { LogoutService } from './revocation/logout.service.js';
import { SessionVerifier } from './sessions/session-verifier.js';
import { requireUserId, type UserId } from './values/user-id.js';

export type { DeviceSearchFilters, DeviceSearchResult, ListDevicesOptions, PruneOptions, UserId };

/**
 * Tracks, lists and logs out devices: the one service hosts inject. Each method hands its plain values to the
 * service of its concept; methods that take a request read it once, here, at the edge.
 */
@Injectable()
export class DeviceService {
  constructor(
    private readonly logins: LoginService,
    private readonly queries: DeviceQueries,
    private readonly logouts: LogoutService,
    private readonly sessions: SessionVerifier,
    private readonly refresh: RefreshRotationService,
    private readonly pruning: PruneService,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /**
   * Chooses, before the tokens are signed, the device and session a login from `request` will be recorded as: the
   * device the request presents (header or cookie) when it is one of this user's, otherwise a new one, and always
   * a new session. `@TrackDevice()` calls it for you; call it yourself when you track logins with {@link track}.
   *
   * @param userId the user logging in, when already known; without it the presented device is only checked by
   *   {@link track}.
   * @throws MaxDevicesExceededException when `maxDevices.policy` is `'reject'` and this would be one device too many.
   */
  async prepareLogin(request: DeviceRequest, userId?: UserId): Promise<DeviceSession> {
    const session = await this.logins.prepare(readClientInfo(request, this.options), userId);
    return withClaims(session, this.options.sessionClaim);
  }

  /**
   * Records a login of `userId` from the device that sent `request`, on the session prepared by
   * {@link prepareLogin} (one is prepared when none is given). The device is updated when it is one of this user's,
   * created otherwise. Its previous session ends: tokens of the device's earlier login stop working.
   *
   * @param refreshToken the refresh token issued at this login (signed JWT or its `jti`), so the device can be
   *   logged out by revoking it.
   * @throws MaxDevicesExceededException when `maxDevices.policy` is `'reject'` and this is one device too many.
   * @throws BadRequestException when the refresh token cannot be decoded.
   */
  track(request: DeviceRequest, userId: UserId, refreshToken?: string | null, session?: SessionRef): Promise<Device> {
    return this.logins.record(readClientInfo(request, this.options), userId, refreshToken, session);
  }

  /** The user's devices, most recently seen first; a page of them with `limit` and `offset`. */
  list(userId: UserId, page?: ListDevicesOptions): Promise<Device[]> {
    return this.queries.list(userId, page);
  }

  /**
   * Every user's devices that match `filters`, most recently seen first; a page of them with `limit` and `offset`.
   * For administrators: the admin endpoints call it. `total` counts every match, whatever the page.
   *
   * A user id is compared as the database compares it: exactly, once the migrations have run (on MySQL/MariaDB a
   * table made another way may ignore case or trailing spaces; each device says whose it is).
   *
   * @throws BadRequestException for a filter or page that cannot be searched.
   */
  search(filters?: DeviceSearchFilters, page?: ListDevicesOptions): Promise<DeviceSearchResult> {
    return this.queries.search(filters, page);
  }

  /**
   * Deletes devices not seen for `inactiveFor` milliseconds, and logged-out ones logged out for `loggedOutFor`
   * (default: `inactiveFor`). Works in batches of `batchSize` rows, each its own short statement, so the table is
   * never locked for long. An active device deleted this way is logged out: its session ends everywhere. Returns how
   * many devices were deleted.
   */
  prune(options: PruneOptions): Promise<number> {
    return this.pruning.prune(options);
  }

  /** @throws NotFoundException when the device does not exist or belongs to someone else (the same answer). */
  findOne(userId: UserId, deviceId: string): Promise<Device> {
    return this.queries.findOne(userId, deviceId);
  }

  /**
   * Any user's device, by its id: for administrators. Users look theirs up with {@link findOne}.
   *
   * @throws NotFoundException when there is no such device.
   */
  findById(deviceId: string): Promise<Device> {
    return this.queries.findById(deviceId);
  }

  /**
   * Logs the device out: its session ends at once on every instance (its access tokens are refused by
   * `DeviceSessionGuard`) and its refresh token can no longer be rotated. Logging out a device that is already
   * logged out changes nothing.
   *
   * @throws NotFoundException when the device does not exist or belongs to someone else.
   */
  async logout(userId: UserId, deviceId: string): Promise<Device> {
    return this.logouts.logout(await this.queries.findOne(userId, deviceId), 'logout');
  }

  /**
   * Logs out any user's device, as {@link logout} does its owner's: for administrators. The logged-out event
   * carries `reason` (default `'admin'`).
   *
   * @throws NotFoundException when there is no such device.
   */
  async logoutById(deviceId: string, reason: DeviceLogoutReason = 'admin'): Promise<Device> {
    return this.logouts.logout(await this.queries.findById(deviceId), reason);
  }

  /** Logs out every active device of the user except `keepDeviceId`. Returns how many were logged out. */
  async logoutOthers(userId: UserId, keepDeviceId: string): Promise<number> {
    const keep = normaliseDeviceId(keepDeviceId);
    if (!keep) throw new BadRequestException('The device to keep must be given by its id');
    return this.logouts.logoutOthers(requireUserId(userId), keep);
  }

  /**
   * Logs out every device of the user, e.g. after a password change. Returns how many were logged out. The
   * logged-out events carry `reason`: `'logout-all'` by default, `'admin'` when an administrator did it.
   */
  async logoutAll(userId: UserId, reason: DeviceLogoutReason = 'logout-all'): Promise<number> {
    return this.logouts.logoutAll(requireUserId(userId), reason);
  }

  /**
   * The device of an authenticated request's session, or `undefined` when the session was logged out, replaced by a
   * newer login of its device, or is not this user's. Answered from this instance's cache when it can be.
   *
   * @throws the database's error when the answer is not cached and the database cannot be asked.
   */
  verifySession(sessionId: string, userId: UserId): Promise<DeviceSession | undefined> {
    return this.sessions.verify(sessionId, userId);
  }

  /**
   * Whether a refresh token may still be used: false once its device is logged out, once it has been rotated, or
   * when it was never tracked. Verify the token's signature before asking. Pass the token: its `jti` alone does not
   * find a token stored with its session (see `storeRefreshTokenId`).
   */
  isRefreshTokenActive(tokenOrJti: string): Promise<boolean> {
    return this.refresh.isActive(tokenOrJti);
  }

  /**
   * Moves the device of `oldToken` to `newToken` (RFC 9700 §4.14 rotation). Verify the old token's signature first.
   *
   * - The device's current token rotates: the new one becomes current, the old one is remembered as replaced.
   * - The replaced token, presented within `refreshReuseGrace` of the rotation, is a refresh that raced with it:
   *   accepted, and the token the other refresh was given stays usable too, so the client may keep either answer.
   * - Any other token of the device (replaced longer ago, or older, recognised by its session claim) is reuse:
   *   one of its holders is a thief. The device is logged out, so every token of its session dies, and
   *   `REFRESH_TOKEN_REUSE_DETECTED` is emitted.
   *
   * @param request the refreshing request, when there is one: the reuse event tells where the token came from.
   * @throws UnauthorizedException when the old token is unknown, replaced, or its device is logged out.
   */
  rotateRefreshToken(oldToken: string, newToken: string, request?: DeviceRequest): Promise<Device> {
    return this.refresh.rotate(oldToken, newToken, request && readClientInfo(request, this.options));
  }

  /** Id of the device `request` comes from: the one its verified session names, else the id the client presents. */
  currentDeviceId(request: DeviceRequest): string | undefined {
    return currentDeviceId(request, this.options);
  }
}
