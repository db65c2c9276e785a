import { Inject, Injectable } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { DeviceEventPublisher } from '../events/device-event-publisher.js';
import { DeviceTrackerEvents } from '../events/device-tracker.events.js';
import { MaxDevicesExceededException } from '../exceptions/max-devices-exceeded.exception.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceStore } from '../persistence/device.store.js';
import { DeviceQueries } from '../queries/device-queries.service.js';
import { LogoutService } from '../revocation/logout.service.js';
import { SessionRevoker } from '../revocation/session-revoker.js';
import { toDeviceSnapshot } from '../views/device-view.js';

type MaxDevices = NonNullable<ResolvedDeviceTrackerOptions['maxDevices']>;

/** `maxDevices`: refuses a login one device too many (`'reject'`), or logs the oldest out (`'evict-oldest'`). */
@Injectable()
export class DeviceLimitPolicy {
  constructor(
    private readonly store: DeviceStore,
    private readonly queries: DeviceQueries,
    private readonly logouts: LogoutService,
    private readonly revoker: SessionRevoker,
    private readonly events: DeviceEventPublisher,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /** `reject` policy, before the write: refuses a login that would make one active device too many. */
  async refuseOverLimit(owner: string, deviceId: string | undefined): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy === 'reject' && (await this.queries.active(owner, deviceId)).length >= max.limit) {
      this.reject(owner, max);
    }
  }

  /**
   * `reject` policy, after a login added an active device: logins racing for the last place each passed the check
   * before writing, so count again and undo this one if the limit is now exceeded. Both racers may be refused;
   * both never get in.
   */
  async refuseIfOverLimitAfterWrite(owner: string, device: Device, created: boolean): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy !== 'reject' || (await this.queries.active(owner)).length <= max.limit) return;
    if (created) await this.store.deleteOwned(device.id, owner);
    else await this.store.update(device.id, { isActive: false, revokedAt: new Date(this.clock.now()) });
    await this.revoker.revoke([device.sessionId]);
    this.reject(owner, max);
  }

  /**
   * `evict-oldest` policy: logs out the active devices beyond the limit, least recently seen first. The order is
   * the same for every login, so two logins racing for the last place agree on which device goes.
   */
  async evictOverLimit(owner: string): Promise<void> {
    const max = this.options.maxDevices;
    if (max?.policy !== 'evict-oldest') return;
    const excess = (await this.queries.active(owner)).slice(max.limit);
    if (excess.length === 0) return;
    await this.logouts.logoutDevices(excess, 'evicted');
    this.events.emit(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED, {
      userId: owner,
      ...max,
      evicted: excess.map(toDeviceSnapshot),
    });
  }

  private reject(owner: string, max: MaxDevices): never {
    this.events.emit(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED, { userId: owner, ...max, evicted: [] });
    throw new MaxDevicesExceededException(max.limit);
  }
}
