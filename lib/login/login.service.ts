import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { DeviceEventPublisher } from '../events/device-event-publisher.js';
import { DeviceTrackerEvents } from '../events/device-tracker.events.js';
import type { ClientInfo } from '../http/client-info.js';
import { ClaimedSession, type SessionRef } from '../http/device-session.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceStore } from '../persistence/device.store.js';
import type { LoginValues } from '../persistence/login-statements.js';
import { DeviceQueries, owns } from '../queries/device-queries.service.js';
import { refreshTokenId, type RefreshTokenIdOptions } from '../refresh/refresh-token-id.js';
import { SessionRevoker } from '../revocation/session-revoker.js';
import { UserAgentParser } from '../user-agent/user-agent.js';
import { timeOrderedId } from '../values/time-ordered-id.js';
import { requireUserId, type UserId } from '../values/user-id.js';
import { toDeviceSnapshot } from '../views/device-view.js';
import { DeviceLimitPolicy } from './device-limit.policy.js';

/** Prepares a login (which device, which session) before the tokens are signed, and records it after. */
@Injectable()
export class LoginService {
  private readonly userAgents: UserAgentParser;
  /** Sessions prepared with a device id made up for a user who presented none of theirs: no row has it yet. */
  private readonly newDevices = new WeakMap<SessionRef, string>();
  /** Whether `maxDevices` is set: without it, a login asks nothing of the limit. */
  private readonly limited: boolean;
  private readonly sessionClaim: string;
  /** What the refresh token's id is made of: see `storeRefreshTokenId`. */
  private readonly refreshTokenIds: RefreshTokenIdOptions;

  constructor(
    private readonly store: DeviceStore,
    private readonly queries: DeviceQueries,
    private readonly limits: DeviceLimitPolicy,
    private readonly revoker: SessionRevoker,
    private readonly events: DeviceEventPublisher,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
    @Inject(DEVICE_TRACKER_OPTIONS) options: ResolvedDeviceTrackerOptions,
  ) {
    this.userAgents = new UserAgentParser(options.userAgentCacheSize);
    this.limited = options.maxDevices !== undefined;
    this.sessionClaim = options.sessionClaim;
    this.refreshTokenIds = options;
  }

  /**
   * The device and session a login will be recorded as: the device the client presents when it is one of this
   * user's, otherwise a new one, and always a new session (the request's own with express-session). Answered at
   * once, without a read, for a client that presents no device when no `maxDevices` applies: most first logins.
   *
   * @throws MaxDevicesExceededException when `maxDevices.policy` is `'reject'` and this would be one device too many.
   */
  prepare(client: ClientInfo, userId?: UserId): SessionRef | Promise<SessionRef> {
    const sessionId = client.requestSessionId ?? this.newId();
    if (userId === undefined) return this.session(this.newId(), sessionId);
    const owner = requireUserId(userId);
    if (client.presentedDeviceId === undefined && !this.limited) return this.newDevice(owner, sessionId);
    return this.prepareChecked(client.presentedDeviceId, owner, sessionId);
  }

  private async prepareChecked(presented: string | undefined, owner: string, sessionId: string): Promise<SessionRef> {
    const mine = await this.queries.owned(owner, presented);
    if (!mine?.isActive) await this.limits.refuseOverLimit(owner, mine?.id);
    return mine ? this.session(mine.id, sessionId) : this.newDevice(owner, sessionId);
  }

  private newDevice(owner: string, sessionId: string): SessionRef {
    const session = this.session(this.newId(), sessionId);
    this.newDevices.set(session, owner);
    return session;
  }

  /** The session as the login's handler will sign it in, with its claims. */
  private session(deviceId: string, sessionId: string): SessionRef {
    return new ClaimedSession(deviceId, sessionId, this.sessionClaim);
  }

  /** A new device or session id: time-ordered, so that a new row's keys land beside the last ones in their indexes. */
  private newId(): string {
    return timeOrderedId(this.clock.now());
  }

  /**
   * Records the login on the prepared session (one is prepared when none is given): the user's device is updated,
   * or a new one created. The device's previous session ends, so tokens of its earlier login stop working.
   *
   * @throws MaxDevicesExceededException when `maxDevices.policy` is `'reject'` and this is one device too many.
   * @throws BadRequestException when the refresh token cannot be decoded.
   */
  async record(
    client: ClientInfo,
    userId: UserId,
    refreshToken?: string | null,
    session?: SessionRef,
  ): Promise<Device> {
    const owner = requireUserId(userId);
    const prepared = session ?? (await this.prepare(client, owner));
    const now = new Date(this.clock.now());
    const agent = this.userAgents.parse(client.userAgent);
    // Written out rather than spread: one object shape for every login, which the engine builds fastest.
    const login: LoginValues = {
      userAgent: agent.userAgent,
      deviceName: agent.deviceName,
      browser: agent.browser,
      os: agent.os,
      deviceType: agent.deviceType,
      ipAddress: client.ipAddress,
      // With express-session the device is tied to the session the login ended on (passport regenerates it).
      sessionId: client.requestSessionId ?? prepared.sessionId,
      refreshTokenJti: refreshToken ? digest(refreshToken, this.refreshTokenIds) : null,
      previousRefreshTokenJti: null,
      concurrentRefreshTokenJti: null,
      refreshTokenRotatedAt: null,
      isActive: true,
      revokedAt: null,
      lastLoginAt: now,
      lastSeenAt: now,
    };

    const { existing, preparedIdTaken } = await this.existingDevice(client, owner, prepared);
    let device: Device;
    let created = false;
    // A prune may delete the row between the read and the update: then this login makes a new device.
    if (existing && (await this.store.updateOwned(existing.id, owner, login))) {
      if (existing.sessionId && existing.sessionId !== login.sessionId) await this.revoker.revoke([existing.sessionId]);
      device = this.store.merge(existing, login);
    } else {
      // A new device's id is always one the server made, never one a client sent.
      const clientSent = prepared.deviceId === client.presentedDeviceId;
      const id = preparedIdTaken || clientSent ? this.newId() : prepared.deviceId;
      device = this.store.build(id, owner, now, login);
      await this.store.insert(device);
      created = true;
    }
    if (this.limited && (created || !existing?.isActive)) {
      await this.limits.refuseIfOverLimitAfterWrite(owner, device, created);
    }
    if (created) this.events.emit(DeviceTrackerEvents.DEVICE_CREATED, () => ({ device: toDeviceSnapshot(device) }));
    if (this.limited) await this.limits.evictOverLimit(owner);
    return device;
  }

  /**
   * The user's device this login updates: the prepared one, else the one the client presents (prepare could not
   * check it without the user). Only the owner's own device: a forged or stolen id of another user's device makes a
   * new device. A device prepare made up for this user is new, which saves two reads on most first logins; once
   * only, as a retried write reads in case its first attempt did land.
   */
  private async existingDevice(
    client: ClientInfo,
    owner: string,
    prepared: SessionRef,
  ): Promise<{ existing: Device | null; preparedIdTaken: boolean }> {
    if (this.newDevices.get(prepared) === owner && this.newDevices.delete(prepared)) {
      return { existing: null, preparedIdTaken: false };
    }
    const preparedRow = await this.store.findById(prepared.deviceId);
    if (preparedRow && owns(preparedRow, owner)) return { existing: preparedRow, preparedIdTaken: true };
    return { existing: await this.queries.owned(owner, client.presentedDeviceId), preparedIdTaken: !!preparedRow };
  }
}

/** @throws BadRequestException when the host hands over a token that cannot be decoded: retrying cannot help. */
function digest(tokenOrJti: string, options: RefreshTokenIdOptions): string {
  try {
    return refreshTokenId(tokenOrJti, options);
  } catch (error) {
    throw new BadRequestException((error as Error).message);
  }
}
