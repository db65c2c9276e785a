import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { storedIp } from '../values/ip-address.js';
import { normaliseDeviceId } from '../values/device-id.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceStore, type StorePage } from '../persistence/device.store.js';
import { canonicalIpAddress } from '../values/ip-address.js';
import { requireUserId, type UserId } from '../values/user-id.js';

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

/** The same answer for a device that does not exist and for one that is someone else's. */
export const deviceNotFound = () => new NotFoundException('Device not found');

/**
 * Instants every database compares correctly, written in any time zone (MySQL's dates run from year 1000 to 9999;
 * SQLite compares text). A `seenSince` outside is moved to the nearest end, which changes no answer: no device was
 * seen that long ago or that far ahead.
 */
const COMPARABLE_INSTANTS = [Date.UTC(1000, 0, 2), Date.UTC(9999, 11, 30)] as const;

/**
 * Compares owners exactly. The database is asked first, but MySQL's collations ignore trailing spaces (and case,
 * unless the column is binary as the migration makes it), so a row for 'alice' could come back for 'Alice '.
 */
export const owns = (device: Pick<Device, 'userId'>, owner: string): boolean => device.userId === owner;

/** Finds devices: a user's own, or any user's for administrators. Parameters are checked here, not in the store. */
@Injectable()
export class DeviceQueries {
  constructor(
    private readonly store: DeviceStore,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  async list(userId: UserId, page: ListDevicesOptions = {}): Promise<Device[]> {
    const owner = requireUserId(userId);
    const devices = await this.store.listByUser(owner, this.page(page));
    return devices.filter((device) => owns(device, owner));
  }

  async search(filters: DeviceSearchFilters = {}, page: ListDevicesOptions = {}): Promise<DeviceSearchResult> {
    const { userId, active, ipAddress, seenSince } = filters;
    const [items, total] = await this.store.search(
      {
        userId: userId === undefined ? undefined : requireUserId(userId),
        isActive: active,
        ipAddress: ipAddress === undefined ? undefined : this.searchableIp(ipAddress),
        seenSince: seenSince === undefined ? undefined : this.comparable(seenSince),
      },
      this.page(page),
    );
    return { items, total };
  }

  /** @throws NotFoundException when the device does not exist or belongs to someone else (the same answer). */
  async findOne(userId: UserId, deviceId: string): Promise<Device> {
    const owner = requireUserId(userId);
    const device = await this.findById(deviceId);
    if (!owns(device, owner)) throw deviceNotFound();
    return device;
  }

  /** @throws NotFoundException when there is no such device. */
  async findById(deviceId: string): Promise<Device> {
    const id = normaliseDeviceId(deviceId);
    const device = id ? await this.store.findById(id) : null;
    if (!device) throw deviceNotFound();
    return device;
  }

  /** The user's device `deviceId`, if there is one and it is theirs. */
  async owned(owner: string, deviceId: string | undefined): Promise<Device | null> {
    const device = deviceId ? await this.store.findById(deviceId) : null;
    return device && owns(device, owner) ? device : null;
  }

  /** The user's active devices but `exceptId`, most recently seen first. */
  async active(owner: string, exceptId?: string): Promise<Device[]> {
    const devices = await this.store.activeDevices(owner, exceptId);
    return devices.filter((device) => owns(device, owner));
  }

  /** `limit` and `offset` checked. */
  private page({ limit, offset = 0 }: ListDevicesOptions): StorePage {
    if (
      (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) ||
      !(Number.isSafeInteger(offset) && offset >= 0)
    ) {
      throw new BadRequestException('limit must be a whole number >= 1 and offset a whole number >= 0');
    }
    return { limit, offset };
  }

  private comparable(seenSince: Date): Date {
    if (!(seenSince instanceof Date) || Number.isNaN(seenSince.getTime())) {
      throw new BadRequestException('seenSince must be a valid Date');
    }
    const [first, last] = COMPARABLE_INSTANTS;
    return new Date(Math.min(Math.max(seenSince.getTime(), first), last));
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
}
