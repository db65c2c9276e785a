import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, type Repository } from 'typeorm';
import { clientIp } from './client-ip.js';
import { currentDeviceId, normaliseDeviceId, presentedDeviceId } from './device-id.js';
import { Device } from './device.entity.js';
import { DEVICE_TRACKER_OPTIONS } from './device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import { normaliseUserId } from './user-id.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import { refreshTokenId } from './refresh-token-id.js';
import { UserAgentParser } from './user-agent.js';

export type UserId = string | number;

/** Tracks, lists and logs out devices. The only code that reads or writes the devices table. */
@Injectable()
export class DeviceService {
  private readonly userAgents: UserAgentParser;

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {
    this.userAgents = new UserAgentParser(options.userAgentCacheSize);
  }

  /**
   * Records a login of `userId` from the device that sent `request`. When the request presents the id of one of
   * this user's devices (header or cookie), that row is updated; otherwise a new device is created.
   *
   * @param refreshToken the refresh token issued at this login (signed JWT or its `jti`), so the device can be
   *   logged out by revoking it. A previous refresh token of the same device stops being valid.
   */
  async track(request: DeviceRequest, userId: UserId, refreshToken?: string | null): Promise<Device> {
    const owner = this.owner(userId);
    const now = new Date();
    const userAgentHeader = request.headers['user-agent'];
    const login = {
      ...this.userAgents.parse(Array.isArray(userAgentHeader) ? userAgentHeader[0] : userAgentHeader),
      ipAddress: clientIp(request),
      refreshTokenJti: refreshToken ? refreshTokenId(refreshToken) : null,
      isActive: true,
      revokedAt: null,
      lastLoginAt: now,
      lastSeenAt: now,
    };

    const presented = presentedDeviceId(request, this.options);
    const existing = presented ? await this.devices.findOneBy({ id: presented }) : null;
    // Only the owner's own device is updated: a forged or stolen id of another user's device makes a new device.
    if (existing && this.owns(existing, owner)) {
      await this.devices.update({ id: existing.id }, login);
      return this.devices.merge(existing, login);
    }
    const device = this.devices.create({ id: randomUUID(), userId: owner, createdAt: now, ...login });
    await this.devices.insert(device);
    return device;
  }

  /** The user's devices, most recently seen first. */
  async list(userId: UserId): Promise<Device[]> {
    const owner = this.owner(userId);
    const devices = await this.devices.find({
      where: { userId: owner },
      order: { lastSeenAt: 'DESC', createdAt: 'DESC', id: 'ASC' },
    });
    return devices.filter((device) => this.owns(device, owner));
  }

  /** @throws NotFoundException when the device does not exist or belongs to someone else (the same answer). */
  async findOne(userId: UserId, deviceId: string): Promise<Device> {
    const owner = this.owner(userId);
    const id = normaliseDeviceId(deviceId);
    const device = id ? await this.devices.findOneBy({ id, userId: owner }) : null;
    if (!device || !this.owns(device, owner)) throw new NotFoundException('Device not found');
    return device;
  }

  /**
   * Logs the device out: it becomes inactive and its refresh token can no longer be rotated. Logging out a device
   * that is already logged out changes nothing.
   *
   * @throws NotFoundException when the device does not exist or belongs to someone else.
   */
  async logout(userId: UserId, deviceId: string): Promise<Device> {
    const device = await this.findOne(userId, deviceId);
    if (!device.isActive) return device;
    await this.devices.update({ id: device.id, isActive: true }, this.loggedOut());
    return this.devices.findOneByOrFail({ id: device.id });
  }

  /** Logs out every active device of the user except `keepDeviceId`. Returns how many were logged out. */
  async logoutOthers(userId: UserId, keepDeviceId: string): Promise<number> {
    const keep = normaliseDeviceId(keepDeviceId);
    if (!keep) throw new BadRequestException('The device to keep must be given by its id');
    const owner = this.owner(userId);
    const others = await this.devices.find({
      select: { id: true, userId: true },
      where: { userId: owner, isActive: true, id: Not(keep) },
    });
    const ids = others.filter((device) => this.owns(device, owner)).map((device) => device.id);
    if (ids.length === 0) return 0;
    const { affected } = await this.devices.update({ id: In(ids), isActive: true }, this.loggedOut());
    return affected ?? 0;
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
   * Moves the device of `oldTokenOrJti` to its new refresh token, in one conditional update, so of two refreshes
   * racing with the same token only one succeeds.
   *
   * @throws UnauthorizedException when the old token is unknown, already rotated, or its device is logged out.
   */
  async rotateRefreshToken(oldTokenOrJti: string, newTokenOrJti: string): Promise<Device> {
    const oldJti = this.tryRefreshTokenId(oldTokenOrJti);
    const newJti = refreshTokenId(newTokenOrJti);
    const { affected } = oldJti
      ? await this.devices.update(
          { refreshTokenJti: oldJti, isActive: true },
          { refreshTokenJti: newJti, lastSeenAt: new Date() },
        )
      : { affected: 0 };
    if (!affected) throw new UnauthorizedException('Refresh token has been revoked or already used');
    return this.devices.findOneByOrFail({ refreshTokenJti: newJti });
  }

  /** Id of the device `request` comes from: the session claim of its token, else the id the client presents. */
  currentDeviceId(request: DeviceRequest): string | undefined {
    return currentDeviceId(request, this.options);
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

  private tryRefreshTokenId(tokenOrJti: string): string | undefined {
    try {
      return refreshTokenId(tokenOrJti);
    } catch {
      return undefined;
    }
  }

  private loggedOut(): Pick<Device, 'isActive' | 'revokedAt'> {
    return { isActive: false, revokedAt: new Date() };
  }
}
