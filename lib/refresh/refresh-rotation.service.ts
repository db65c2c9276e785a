import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { DeviceEventPublisher } from '../events/device-event-publisher.js';
import { DeviceTrackerEvents } from '../events/device-tracker.events.js';
import type { ClientInfo } from '../http/client-info.js';
import type { SessionRef } from '../http/device-session.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import type { Device } from '../persistence/device.entity.js';
import { type DeviceChanges, DeviceStore } from '../persistence/device.store.js';
import { LogoutService } from '../revocation/logout.service.js';
import { normaliseUserAgent } from '../user-agent/user-agent.js';
import { toDeviceSnapshot } from '../views/device-view.js';
import { jwtStringClaim } from '../values/jwt-claims.js';
import { refreshTokenId, storedId, tryRefreshTokenIds } from './refresh-token-id.js';

/** A refresh token of a device, refused: its device is logged out, or the token was replaced (and maybe stolen). */
export const refreshRefused = () => new UnauthorizedException('Refresh token has been revoked or already used');

/**
 * A refresh token the module cannot read, or that no device holds: not one it tracks (forged, mistyped, issued before
 * the module, or of a device since pruned or signed in again). It says nothing about any device.
 */
export const refreshInvalid = () => new UnauthorizedException('Invalid refresh token; sign in again');

/** Refresh token rotation with reuse detection (RFC 9700 §4.14). */
@Injectable()
export class RefreshRotationService {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly store: DeviceStore,
    private readonly logouts: LogoutService,
    private readonly events: DeviceEventPublisher,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /** Whether the refresh token is the current one of an active device. */
  async isActive(tokenOrJti: string): Promise<boolean> {
    const ids = this.idsOf(tokenOrJti);
    return ids !== undefined && this.store.hasActiveRefreshToken(ids);
  }

  /**
   * The session of the active device `token` belongs to, as its current, replaced or concurrent refresh token, or
   * through its session claim.
   *
   * @throws UnauthorizedException {@link refreshInvalid} when no device holds the token, {@link refreshRefused} when
   * its device is logged out.
   */
  async sessionOf(token: string): Promise<SessionRef> {
    const ids = this.idsOf(token);
    if (ids === undefined) throw refreshInvalid();
    const device =
      (await this.store.findByIssuedToken(ids)) ??
      (await this.store.findByReplacedToken(ids)) ??
      (await this.deviceOfSession(token));
    if (!device) throw refreshInvalid();
    if (!device.isActive) throw refreshRefused();
    // A device tracked without sessions (0.1's rows): no session to hand the route.
    if (!device.sessionId) throw refreshInvalid();
    return { deviceId: device.id, sessionId: device.sessionId };
  }

  /**
   * Moves the device of `oldToken` to `newToken`. The replaced token, presented again within `refreshReuseGrace`,
   * is a refresh that raced with the rotation and is accepted; any other old token of the device is reuse, and
   * logs the device out.
   *
   * @param client who refreshes, when known: the reuse event tells where the token came from.
   * @throws UnauthorizedException {@link refreshInvalid} when no device holds the old token, {@link refreshRefused}
   * when it was replaced or its device is logged out.
   */
  async rotate(oldToken: string, newToken: string, client?: ClientInfo): Promise<Device> {
    const oldIds = this.idsOf(oldToken);
    const newJti = refreshTokenId(newToken, this.options);
    if (oldIds === undefined) throw refreshInvalid();
    const now = new Date(this.clock.now());
    const seen = { lastSeenAt: now, ...(client ? { ipAddress: client.ipAddress } : {}) };
    // Stored as the new one is: under 'digest', 0.4 must find it as the replaced token, or a concurrent refresh there
    // is taken for reuse.
    const rotation = {
      previousRefreshTokenJti: storedId(oldIds, this.options),
      concurrentRefreshTokenJti: null,
      refreshTokenRotatedAt: now,
    };
    // Each attempt is one conditional update; another refresh of the same device changing the row in between
    // makes it fail, and the next attempt decides again from the row as that refresh left it.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.store.updateByCurrentToken(oldIds, { refreshTokenJti: newJti, ...rotation, ...seen })) {
        return this.rotatedTo(newJti);
      }
      const device: Device | null =
        (await this.store.findByReplacedToken(oldIds)) ?? (await this.deviceOfSession(oldToken));
      if (!device) {
        // The current token of a logged-out device is refused as such; a token no device holds is invalid.
        if (await this.store.findByIssuedToken(oldIds)) break;
        throw refreshInvalid();
      }
      if (!device.isActive || !device.refreshTokenJti) break;
      let move: DeviceChanges;
      if (isOneOf(device.concurrentRefreshTokenJti, oldIds)) {
        move = { refreshTokenJti: newJti, ...rotation };
      } else if (isOneOf(device.previousRefreshTokenJti, oldIds) && this.withinGrace(device, now)) {
        move = { refreshTokenJti: newJti, concurrentRefreshTokenJti: device.refreshTokenJti };
      } else {
        await this.detectReuse(device, client);
        break;
      }
      if (await this.store.updateIfCurrent(device.id, device.refreshTokenJti, { ...move, ...seen })) {
        return this.rotatedTo(newJti);
      }
    }
    throw refreshRefused();
  }

  /**
   * The device a rotation moved to `newJti`. A refresh racing with this one may already have moved it on, leaving
   * `newJti` as its concurrent token; a logout or prune racing with it may have ended it.
   */
  private async rotatedTo(newJti: string): Promise<Device> {
    const device = await this.store.findByIssuedToken([newJti]);
    if (!device?.isActive) throw refreshRefused();
    return device;
  }

  /** The ids `tokenOrJti` may be stored under, or `undefined` when it cannot be read. */
  private idsOf(tokenOrJti: string): string[] | undefined {
    return tryRefreshTokenIds(tokenOrJti, this.options.sessionClaim);
  }

  private withinGrace(device: Device, now: Date): boolean {
    const rotatedAt = device.refreshTokenRotatedAt?.getTime();
    return rotatedAt !== undefined && now.getTime() - rotatedAt <= this.options.refreshReuseGrace;
  }

  /** A replaced refresh token came back: whoever holds the current one may be a thief, so the device dies. */
  private async detectReuse(device: Device, client: ClientInfo | undefined): Promise<void> {
    // Two replays crossing log the device out once, and report it once.
    if ((await this.logouts.logoutDevices([device], 'refresh-token-reuse')) === 0) return;
    this.logger.warn(`Refresh token reuse detected on device ${device.id} of user ${device.userId}; it was logged out`);
    this.events.emit(DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED, {
      device: toDeviceSnapshot(device),
      ipAddress: client ? client.ipAddress : null,
      userAgent: normaliseUserAgent(client?.userAgent),
    });
  }

  /** The device of the session a signed refresh token names, so reuse of a token older than the last one is caught. */
  private async deviceOfSession(token: string): Promise<Device | null> {
    const sessionId = jwtStringClaim(token, this.options.sessionClaim);
    if (!sessionId) return null;
    const device = await this.store.findBySession(sessionId);
    return device?.sessionId === sessionId ? device : null;
  }
}

function isOneOf(id: string | null, ids: readonly string[]): boolean {
  return id !== null && ids.includes(id);
}
