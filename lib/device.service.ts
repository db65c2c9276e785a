import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  type FindOptionsWhere,
  In,
  IsNull,
  LessThan,
  MoreThanOrEqual,
  Not,
  type QueryDeepPartialEntity,
  type Repository,
} from 'typeorm';
import { recordedIp, storedIp } from './http/client-ip.js';
import { currentDeviceId, normaliseDeviceId, presentedDeviceId } from './http/device-id.js';
import { DeviceEventPublisher } from './events/device-event-publisher.js';
import { destroyRequestSession, requestSessionId } from './http/request-session.js';
import type { DeviceSession } from './http/device-session.js';
import {
  DEVICE_TRACKER_OPTIONS,
  LOGGER_CONTEXT,
  MAX_PRUNE_AGE_MS,
  MAX_PRUNE_BATCH_SIZE,
} from './device-tracker.constants.js';
import { DeviceTrackerEvents, type DeviceLogoutReason } from './events/device-tracker.events.js';
import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import { toDeviceSnapshot } from './views/device-view.js';
import { Device } from './persistence/device.entity.js';
import { MaxDevicesExceededException } from './exceptions/max-devices-exceeded.exception.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import { canonicalIpAddress } from './values/ip-address.js';
import { refreshTokenClaim, refreshTokenId } from './refresh/refresh-token-id.js';
import { SessionCache } from './sessions/session-cache.js';
import { TrackingRetrier } from './login/tracking-retrier.js';
import { normaliseUserAgent, UserAgentParser } from './user-agent/user-agent.js';
import { normaliseUserId } from './values/user-id.js';

export type UserId = string | number;

/** A page of a user's devices. */
export interface ListDevicesOptions {
  /** How many devices at most. Default: all of them. */
  limit?: number;
  /** How many of the most recently seen to skip. Default: `0`. */
  offset?: number;
}

/** Which devices `DeviceService.search()` finds: those that match every filter given. */
export interface DeviceSearchFilters {
  /** Devices of this user. */
  userId?: UserId;
  /** `true`: devices still logged in; `false`: logged-out ones. */
  active?: boolean;
  /**
   * Devices last seen from this IPv4 or IPv6 address, compared as addresses are stored: with
   * `storeIpAddress: 'truncated'`, every device of the address's network matches; with `'none'` it cannot be used.
   */
  ipAddress?: string;
  /** Devices last seen at or after this instant. */
  seenSince?: Date;
}

/** A page of the devices `DeviceService.search()` found, and how many match in all. */
export interface DeviceSearchResult {
  items: Device[];
  total: number;
}

/** What `DeviceService.prune()` deletes. */
export interface PruneOptions {
  /** Delete devices not seen for this many milliseconds, active or not. */
  inactiveFor: number;
  /** Delete logged-out devices logged out this many milliseconds ago. Default: `inactiveFor`. */
  loggedOutFor?: number;
  /** Rows deleted per statement. Default: `500`. */
  batchSize?: number;
}

function userAgentOf(request: DeviceRequest): string | undefined {
  const header = request.headers['user-agent'];
  return Array.isArray(header) ? header[0] : header;
}

/** One answer for every refused refresh: it tells a client nothing about why. */
const refreshRefused = () => new UnauthorizedException('Refresh token has been revoked or already used');

/** The same answer for a device that does not exist and for one that is someone else's. */
const deviceNotFound = () => new NotFoundException('Device not found');

/**
 * Instants every database compares correctly, written in any time zone (MySQL's dates run from year 1000 to 9999;
 * SQLite compares text). A `seenSince` outside is moved to the nearest end, which changes no answer: no device was
 * seen that long ago or that far ahead.
 */
const COMPARABLE_INSTANTS = [Date.UTC(1000, 0, 2), Date.UTC(9999, 11, 30)] as const;

const NEWEST_FIRST = { lastSeenAt: 'DESC', createdAt: 'DESC', id: 'ASC' } as const;

/** Tracks, lists and logs out devices. The only code that reads or writes the devices table. */
@Injectable()
export class DeviceService {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly userAgents: UserAgentParser;
  /** Sessions prepared with a device id made up for a user who presented none of theirs: no row has it yet. */
  private readonly newDevices = new WeakMap<DeviceSession, string>();

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
    private readonly sessions: SessionCache,
    private readonly events: DeviceEventPublisher,
    private readonly retrier: TrackingRetrier,
  ) {
    this.userAgents = new UserAgentParser(options.userAgentCacheSize);
  }

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
    const sessionId = requestSessionId(request, this.options) ?? randomUUID();
    if (userId === undefined) return { deviceId: randomUUID(), sessionId };
    const owner = this.owner(userId);
    const mine = await this.presentedDevice(request, owner);
    if (!mine?.isActive) await this.refuseOverLimit(owner, mine?.id);
    if (mine) return { deviceId: mine.id, sessionId };
    const session = { deviceId: randomUUID(), sessionId };
    this.newDevices.set(session, owner);
    return session;
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
  async track(
    request: DeviceRequest,
    userId: UserId,
    refreshToken?: string | null,
    session?: DeviceSession,
  ): Promise<Device> {
    const owner = this.owner(userId);
    const prepared = session ?? (await this.prepareLogin(request, owner));
    const now = new Date();
    const login = {
      ...this.userAgents.parse(userAgentOf(request)),
      ipAddress: this.ipOf(request),
      // With express-session the device is tied to the session the login ended on (passport regenerates it).
      sessionId: requestSessionId(request, this.options) ?? prepared.sessionId,
      refreshTokenJti: refreshToken ? this.refreshTokenDigest(refreshToken) : null,
      previousRefreshTokenJti: null,
      concurrentRefreshTokenJti: null,
      refreshTokenRotatedAt: null,
      isActive: true,
      revokedAt: null,
      lastLoginAt: now,
      lastSeenAt: now,
    };

    // The prepared device, else the one the request presents: prepareLogin could not check it without the user.
    // Only the owner's own device is updated: a forged or stolen id of another user's device makes a new device.
    // A device prepareLogin made up for this user is new: two reads saved on most first logins. Once only: a
    // retried write reads, in case its first attempt did land.
    const isNew = this.newDevices.get(prepared) === owner && this.newDevices.delete(prepared);
    const preparedRow = isNew ? null : await this.devices.findOneBy({ id: prepared.deviceId });
    const existing = isNew
      ? null
      : preparedRow && this.owns(preparedRow, owner)
        ? preparedRow
        : await this.presentedDevice(request, owner);
    let device: Device;
    let created = false;
    // A prune may delete the row between the read and the update: then this login makes a new device.
    if (existing && (await this.devices.update({ id: existing.id, userId: owner }, login)).affected) {
      if (existing.sessionId && existing.sessionId !== login.sessionId) await this.revokeSessions([existing.sessionId]);
      device = this.devices.merge(existing, login);
    } else {
      // A new device's id is always one the server made, never one a client sent.
      const clientSent = prepared.deviceId === presentedDeviceId(request, this.options);
      device = this.devices.create({
        id: preparedRow || clientSent ? randomUUID() : prepared.deviceId,
        userId: owner,
        createdAt: now,
        ...login,
      });
      await this.devices.insert(device);
      created = true;
    }
    if (created || !existing?.isActive) await this.refuseIfOverLimitAfterWrite(owner, device, created);
    if (created) this.events.emit(DeviceTrackerEvents.DEVICE_CREATED, { device: toDeviceSnapshot(device) });
    await this.evictOverLimit(owner);
    return device;
  }

  /** The user's devices, most recently seen first; a page of them with `limit` and `offset`. */
  async list(userId: UserId, page: ListDevicesOptions = {}): Promise<Device[]> {
    const owner = this.owner(userId);
    const devices = await this.devices.find({ where: { userId: owner }, order: NEWEST_FIRST, ...this.page(page) });
    return devices.filter((device) => this.owns(device, owner));
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
  async search(filters: DeviceSearchFilters = {}, page: ListDevicesOptions = {}): Promise<DeviceSearchResult> {
    const { userId, active, ipAddress, seenSince } = filters;
    const where: FindOptionsWhere<Device> = {};
    if (userId !== undefined) where.userId = this.owner(userId);
    if (active !== undefined) where.isActive = active;
    if (ipAddress !== undefined) where.ipAddress = this.searchableIp(ipAddress);
    if (seenSince !== undefined) {
      if (!(seenSince instanceof Date) || Number.isNaN(seenSince.getTime())) {
        throw new BadRequestException('seenSince must be a valid Date');
      }
      const [first, last] = COMPARABLE_INSTANTS;
      where.lastSeenAt = MoreThanOrEqual(new Date(Math.min(Math.max(seenSince.getTime(), first), last)));
    }
    const [items, total] = await this.devices.findAndCount({ where, order: NEWEST_FIRST, ...this.page(page) });
    return { items, total };
  }

  /**
   * Deletes devices not seen for `inactiveFor` milliseconds, and logged-out ones logged out for `loggedOutFor`
   * (default: `inactiveFor`). Works in batches of `batchSize` rows, each its own short statement, so the table is
   * never locked for long. An active device deleted this way is logged out: its session ends everywhere. Returns how
   * many devices were deleted.
   */
  async prune({ inactiveFor, loggedOutFor = inactiveFor, batchSize = 500 }: PruneOptions): Promise<number> {
    for (const [name, value, max] of [
      ['inactiveFor', inactiveFor, MAX_PRUNE_AGE_MS],
      ['loggedOutFor', loggedOutFor, MAX_PRUNE_AGE_MS],
      ['batchSize', batchSize, MAX_PRUNE_BATCH_SIZE],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1 || value > max) {
        throw new BadRequestException(`prune: ${name} must be a whole number from 1 to ${max} (got ${value})`);
      }
    }
    const now = Date.now();
    const unseen = { lastSeenAt: LessThan(new Date(now - inactiveFor)) };
    const loggedOut = { isActive: false, revokedAt: LessThan(new Date(now - loggedOutFor)) };
    let deleted = 0;
    for (;;) {
      const batch = await this.devices.find({
        select: { id: true, sessionId: true, isActive: true },
        where: [unseen, loggedOut],
        take: batchSize,
      });
      if (batch.length === 0) return deleted;
      const ids = In(batch.map((device) => device.id));
      // The conditions again: a login may have brought a device back since it was read. One statement: two deletes
      // of the same rows on two connections deadlock each other on InnoDB.
      const { affected } = await this.devices.delete([
        { id: ids, ...unseen },
        { id: ids, ...loggedOut },
      ]);
      const kept = new Set((await this.devices.find({ select: { id: true }, where: { id: ids } })).map((d) => d.id));
      const gone = batch.filter((device) => !kept.has(device.id));
      deleted += gone.length;
      await this.revokeSessions(gone.filter((device) => device.isActive).map((device) => device.sessionId));
      if (batch.length < batchSize || affected === 0) return deleted;
    }
  }

  /** @throws NotFoundException when the device does not exist or belongs to someone else (the same answer). */
  async findOne(userId: UserId, deviceId: string): Promise<Device> {
    const owner = this.owner(userId);
    const device = await this.findById(deviceId);
    if (!this.owns(device, owner)) throw deviceNotFound();
    return device;
  }

  /**
   * Any user's device, by its id: for administrators. Users look theirs up with {@link findOne}.
   *
   * @throws NotFoundException when there is no such device.
   */
  async findById(deviceId: string): Promise<Device> {
    const id = normaliseDeviceId(deviceId);
    const device = id ? await this.devices.findOneBy({ id }) : null;
    if (!device) throw deviceNotFound();
    return device;
  }

  /**
   * Logs the device out: its session ends at once on every instance (its access tokens are refused by
   * `DeviceSessionGuard`) and its refresh token can no longer be rotated. Logging out a device that is already
   * logged out changes nothing.
   *
   * @throws NotFoundException when the device does not exist or belongs to someone else.
   */
  async logout(userId: UserId, deviceId: string): Promise<Device> {
    return this.logoutFound(await this.findOne(userId, deviceId), 'logout');
  }

  /**
   * Logs out any user's device, as {@link logout} does its owner's: for administrators. The logged-out event
   * carries `reason` (default `'admin'`).
   *
   * @throws NotFoundException when there is no such device.
   */
  async logoutById(deviceId: string, reason: DeviceLogoutReason = 'admin'): Promise<Device> {
    return this.logoutFound(await this.findById(deviceId), reason);
  }

  /** Logs out every active device of the user except `keepDeviceId`. Returns how many were logged out. */
  async logoutOthers(userId: UserId, keepDeviceId: string): Promise<number> {
    const keep = normaliseDeviceId(keepDeviceId);
    if (!keep) throw new BadRequestException('The device to keep must be given by its id');
    await this.retrier.cancel(this.owner(userId), { except: keep });
    return this.logoutDevices(await this.activeDevices(userId, keep), 'logout-others');
  }

  /**
   * Logs out every device of the user, e.g. after a password change. Returns how many were logged out. The
   * logged-out events carry `reason`: `'logout-all'` by default, `'admin'` when an administrator did it.
   */
  async logoutAll(userId: UserId, reason: DeviceLogoutReason = 'logout-all'): Promise<number> {
    await this.retrier.cancel(this.owner(userId));
    return this.logoutDevices(await this.activeDevices(userId), reason);
  }

  /**
   * The device of an authenticated request's session, or `undefined` when the session was logged out, replaced by a
   * newer login of its device, or is not this user's. Answered from this instance's cache when it can be.
   *
   * @throws the database's error when the answer is not cached and the database cannot be asked.
   */
  async verifySession(sessionId: string, userId: UserId): Promise<DeviceSession | undefined> {
    const owner = this.owner(userId);
    const cached = this.sessions.get(sessionId);
    if (cached === 'revoked') return undefined;
    if (cached) return cached.userId === owner ? { deviceId: cached.deviceId, sessionId } : undefined;

    const device = await this.devices.findOne({
      select: { id: true, userId: true, sessionId: true, isActive: true },
      where: { sessionId },
    });
    // Exact comparison: MySQL's default collation would match a session id that differs only in case.
    if (!device || device.sessionId !== sessionId) return undefined;
    if (!device.isActive) {
      this.sessions.revoked([sessionId]);
      return undefined;
    }
    this.sessions.remember(sessionId, { deviceId: device.id, userId: device.userId });
    return this.owns(device, owner) ? { deviceId: device.id, sessionId } : undefined;
  }

  /**
   * Destroys the request's own express session when a logout it made has ended it. The store copy is gone
   * already, but express-session would save the request's session back into the store as the response ends.
   * Called by the devices controller.
   *
   * @internal
   */
  async endRequestSessionIfLoggedOut(request: DeviceRequest): Promise<void> {
    const sessionId = requestSessionId(request, this.options);
    if (sessionId && this.sessions.get(sessionId) === 'revoked') await destroyRequestSession(request, this.options);
  }

  /**
   * Whether a refresh token may still be used: false once its device is logged out, once it has been rotated, or
   * when it was never tracked. Verify the token's signature before asking.
   */
  async isRefreshTokenActive(tokenOrJti: string): Promise<boolean> {
    const jti = this.tryRefreshTokenId(tokenOrJti);
    return jti !== undefined && this.devices.existsBy({ refreshTokenJti: jti, isActive: true });
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
  async rotateRefreshToken(oldToken: string, newToken: string, request?: DeviceRequest): Promise<Device> {
    const oldJti = this.tryRefreshTokenId(oldToken);
    const newJti = refreshTokenId(newToken);
    if (oldJti === undefined) throw refreshRefused();
    const now = new Date();
    const seen = { lastSeenAt: now, ...(request ? { ipAddress: this.ipOf(request) } : {}) };
    const rotation = { previousRefreshTokenJti: oldJti, concurrentRefreshTokenJti: null, refreshTokenRotatedAt: now };
    // Each attempt is one conditional update; another refresh of the same device changing the row in between
    // makes it fail, and the next attempt decides again from the row as that refresh left it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { affected } = await this.devices.update(
        { refreshTokenJti: oldJti, isActive: true },
        { refreshTokenJti: newJti, ...rotation, ...seen },
      );
      if (affected) return this.rotatedTo(newJti);

      const device: Device | null =
        (await this.devices.findOne({
          where: [{ previousRefreshTokenJti: oldJti }, { concurrentRefreshTokenJti: oldJti }],
        })) ?? (await this.deviceOfSession(oldToken));
      if (!device?.isActive || !device.refreshTokenJti) break;
      const current = { id: device.id, isActive: true, refreshTokenJti: device.refreshTokenJti };
      let move: QueryDeepPartialEntity<Device>;
      if (device.concurrentRefreshTokenJti === oldJti) {
        move = { refreshTokenJti: newJti, ...rotation };
      } else if (device.previousRefreshTokenJti === oldJti && this.withinGrace(device, now)) {
        move = { refreshTokenJti: newJti, concurrentRefreshTokenJti: device.refreshTokenJti };
      } else {
        await this.detectReuse(device, request);
        break;
      }
      if ((await this.devices.update(current, { ...move, ...seen })).affected) {
        return this.rotatedTo(newJti);
      }
    }
    throw refreshRefused();
  }

  /**
   * Records that a device was seen at `seenAt` from `ipAddress`, unless it was already seen after `notSeenSince`
   * (another instance recorded it) or is logged out. Called by `DeviceSessionGuard`.
   *
   * @internal
   */
  async recordSeen(deviceId: string, ipAddress: string | null, seenAt: Date, notSeenSince: Date): Promise<void> {
    await this.devices.update(
      { id: deviceId, isActive: true, lastSeenAt: LessThan(notSeenSince) },
      { lastSeenAt: seenAt, ipAddress },
    );
  }

  /** Id of the device `request` comes from: the one its verified session names, else the id the client presents. */
  currentDeviceId(request: DeviceRequest): string | undefined {
    return currentDeviceId(request, this.options);
  }

  /** The device, logged out (see {@link logout}), as it is now. */
  private async logoutFound(device: Device, reason: DeviceLogoutReason): Promise<Device> {
    await this.retrier.cancel(device.userId, { only: [device.id] });
    await this.logoutDevices([device], reason);
    // Gone only if a prune deleted it meanwhile: as logged out as can be.
    const after = await this.devices.findOneBy({ id: device.id });
    if (!after) throw deviceNotFound();
    return after;
  }

  /** `limit` and `offset` checked and turned into TypeORM's `take` and `skip`. */
  private page({ limit, offset = 0 }: ListDevicesOptions): { take?: number; skip?: number } {
    if (
      (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) ||
      !(Number.isSafeInteger(offset) && offset >= 0)
    ) {
      throw new BadRequestException('limit must be a whole number >= 1 and offset a whole number >= 0');
    }
    // MySQL has no OFFSET without LIMIT: skip only when there is something to skip, with a limit then.
    return offset > 0 ? { skip: offset, take: limit ?? Number.MAX_SAFE_INTEGER } : { take: limit };
  }

  /** An address to search for, in the form `storeIpAddress` stores addresses. */
  private searchableIp(ipAddress: string): string {
    const storage = this.options.storeIpAddress;
    if (storage === 'none') {
      throw new BadRequestException("Devices cannot be searched by IP address: storeIpAddress is 'none'");
    }
    const address = typeof ipAddress === 'string' ? canonicalIpAddress(ipAddress) : undefined;
    if (address === undefined) throw new BadRequestException('ipAddress must be an IPv4 or IPv6 address');
    return storedIp(address, storage)!;
  }

  /**
   * The device a rotation moved to `newJti`. A refresh racing with this one may already have moved it on, leaving
   * `newJti` as its concurrent token; a logout or prune racing with it may have ended it.
   */
  private async rotatedTo(newJti: string): Promise<Device> {
    const device = await this.devices.findOne({
      where: [{ refreshTokenJti: newJti }, { concurrentRefreshTokenJti: newJti }],
    });
    if (!device?.isActive) throw refreshRefused();
    return device;
  }

  private withinGrace(device: Device, now: Date): boolean {
    const rotatedAt = device.refreshTokenRotatedAt?.getTime();
    return rotatedAt !== undefined && now.getTime() - rotatedAt <= this.options.refreshReuseGrace;
  }

  /** The user's device whose id the request presents (header or cookie), if it is one of theirs. */
  private async presentedDevice(request: DeviceRequest, owner: string): Promise<Device | null> {
    const presented = presentedDeviceId(request, this.options);
    const device = presented ? await this.devices.findOneBy({ id: presented }) : null;
    return device && this.owns(device, owner) ? device : null;
  }

  private ipOf(request: DeviceRequest): string | null {
    return recordedIp(request, this.options.storeIpAddress);
  }

  /** A replaced refresh token came back: whoever holds the current one may be a thief, so the device dies. */
  private async detectReuse(device: Device, request: DeviceRequest | undefined): Promise<void> {
    // Two replays crossing log the device out once, and report it once.
    if ((await this.logoutDevices([device], 'refresh-token-reuse')) === 0) return;
    this.logger.warn(`Refresh token reuse detected on device ${device.id} of user ${device.userId}; it was logged out`);
    this.events.emit(DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED, {
      device: toDeviceSnapshot(device),
      ipAddress: request ? this.ipOf(request) : null,
      userAgent: normaliseUserAgent(request && userAgentOf(request)),
    });
  }

  /** The device of the session a signed refresh token names, so reuse of a token older than the last one is caught. */
  private async deviceOfSession(token: string): Promise<Device | null> {
    const sessionId = refreshTokenClaim(token, this.options.sessionClaim);
    if (!sessionId) return null;
    const device = await this.devices.findOneBy({ sessionId });
    return device?.sessionId === sessionId ? device : null;
  }

  private async activeDevices(userId: UserId, exceptId?: string): Promise<Device[]> {
    const owner = this.owner(userId);
    const devices = await this.devices.find({
      where: { userId: owner, isActive: true, ...(exceptId ? { id: Not(exceptId) } : {}) },
      order: NEWEST_FIRST,
    });
    return devices.filter((device) => this.owns(device, owner));
  }

  /**
   * Logs the devices out and ends their sessions everywhere. Returns how many this call logged out: each row is
   * updated on its own, conditionally, so of two logouts that cross only one reports (and announces) a device.
   */
  private async logoutDevices(devices: Device[], reason: DeviceLogoutReason): Promise<number> {
    const loggedOut = await Promise.all(devices.map((device) => this.logoutDevice(device)));
    const done = loggedOut.filter((device): device is Device => device !== undefined);
    for (const device of done) {
      this.events.emit(DeviceTrackerEvents.DEVICE_LOGGED_OUT, { device: toDeviceSnapshot(device), reason });
    }
    return done.length;
  }

  /**
   * Logs one device out, with the session it is on when the update lands: a login of the same device racing with
   * the logout may have moved it to a new session since the row was read, and that session must end too.
   */
  private async logoutDevice(read: Device): Promise<Device | undefined> {
    let device: Device | null = read;
    for (let attempt = 0; device?.isActive && attempt < 3; attempt++) {
      const loggedOut = { isActive: false, revokedAt: new Date() };
      const { affected } = await this.devices.update(
        { id: device.id, isActive: true, sessionId: device.sessionId ?? IsNull() },
        loggedOut,
      );
      if (affected) {
        await this.revokeSessions([device.sessionId]);
        return this.devices.merge(device, loggedOut);
      }
      device = await this.devices.findOneBy({ id: device.id });
    }
    return undefined;
  }

  /**
   * Ends sessions: refused at once here, announced to the other instances, and destroyed in the express-session
   * store when there is one. An announcement that fails is logged; the others then notice within `sessionCacheTtl`.
   */
  private async revokeSessions(sessionIds: (string | null)[]): Promise<void> {
    const ids = sessionIds.filter((id): id is string => Boolean(id));
    if (ids.length === 0) return;
    this.sessions.revoked(ids);
    this.options.revocationNotifier
      .publish(ids)
      .catch((error: Error) => this.logger.warn(`Could not announce a logout to other instances: ${error.message}`));
    const store = this.options.sessionStore;
    if (!store) return;
    await Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve) =>
            store.destroy(id, (error) => {
              if (error) this.logger.warn(`Could not destroy a logged-out session: ${(error as Error).message}`);
              resolve();
            }),
          ),
      ),
    );
  }

  /** `reject` policy, before the write: refuses a login that would make one active device too many. */
  private async refuseOverLimit(owner: string, deviceId: string | undefined): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy === 'reject' && (await this.activeDevices(owner, deviceId)).length >= max.limit) {
      this.rejectOverLimit(owner, max);
    }
  }

  /**
   * `reject` policy, after a login added an active device: logins racing for the last place each passed the check
   * before writing, so count again and undo this one if the limit is now exceeded. Both racers may be refused;
   * both never get in.
   */
  private async refuseIfOverLimitAfterWrite(owner: string, device: Device, created: boolean): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy !== 'reject' || (await this.activeDevices(owner)).length <= max.limit) return;
    if (created) await this.devices.delete({ id: device.id, userId: owner });
    else await this.devices.update({ id: device.id }, { isActive: false, revokedAt: new Date() });
    await this.revokeSessions([device.sessionId]);
    this.rejectOverLimit(owner, max);
  }

  private rejectOverLimit(owner: string, max: NonNullable<ResolvedDeviceTrackerOptions['maxDevices']>): never {
    this.events.emit(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED, { userId: owner, ...max, evicted: [] });
    throw new MaxDevicesExceededException(max.limit);
  }

  /**
   * `evict-oldest` policy: logs out the active devices beyond the limit, least recently seen first. The order is
   * the same for every login, so two logins racing for the last place agree on which device goes.
   */
  private async evictOverLimit(owner: string): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy !== 'evict-oldest') return;
    const excess = (await this.activeDevices(owner)).slice(max.limit);
    if (excess.length === 0) return;
    await this.logoutDevices(excess, 'evicted');
    this.events.emit(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED, {
      userId: owner,
      ...max,
      evicted: excess.map(toDeviceSnapshot),
    });
  }

  private owner(userId: UserId): string {
    const owner = normaliseUserId(userId);
    if (owner === undefined) throw new BadRequestException('A user id must be a non-empty string or a number');
    return owner;
  }

  /**
   * Compares owners exactly. The database is asked first, but MySQL's collations ignore trailing spaces (and case,
   * unless the column is binary as the migration makes it), so a row for 'alice' could come back for 'Alice '.
   */
  private owns(device: Pick<Device, 'userId'>, owner: string): boolean {
    return device.userId === owner;
  }

  /** @throws BadRequestException when the host hands over a token that cannot be decoded: retrying cannot help. */
  private refreshTokenDigest(tokenOrJti: string): string {
    try {
      return refreshTokenId(tokenOrJti);
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
  }

  private tryRefreshTokenId(tokenOrJti: string): string | undefined {
    try {
      return refreshTokenId(tokenOrJti);
    } catch {
      return undefined;
    }
  }
}
