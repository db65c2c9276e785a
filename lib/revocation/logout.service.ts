import { Inject, Injectable } from '@nestjs/common';
import { DeviceEventPublisher } from '../events/device-event-publisher.js';
import { DeviceTrackerEvents, type DeviceLogoutReason } from '../events/device-tracker.events.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import type { Device } from '../persistence/device.entity.js';
import { DeviceStore } from '../persistence/device.store.js';
import { DeviceQueries, deviceNotFound } from '../queries/device-queries.service.js';
import { toDeviceSnapshot } from '../views/device-view.js';
import { SessionRevoker } from './session-revoker.js';

/** Logs devices out: the row first, conditionally, then its session everywhere, then the event. */
@Injectable()
export class LogoutService {
  constructor(
    private readonly store: DeviceStore,
    private readonly queries: DeviceQueries,
    private readonly revoker: SessionRevoker,
    private readonly events: DeviceEventPublisher,
    private readonly retrier: TrackingRetrier,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
  ) {}

  /** The device, logged out, as it is now. Logging out a device already logged out changes nothing. */
  async logout(device: Device, reason: DeviceLogoutReason): Promise<Device> {
    await this.retrier.cancel(device.userId, { only: [device.id] });
    await this.logoutDevices([device], reason);
    // Gone only if a prune deleted it meanwhile: as logged out as can be.
    const after = await this.store.findById(device.id);
    if (!after) throw deviceNotFound();
    return after;
  }

  /** Logs out every active device of `owner` but `keep`. Returns how many were logged out. */
  async logoutOthers(owner: string, keep: string): Promise<number> {
    await this.retrier.cancel(owner, { except: keep });
    return this.logoutDevices(await this.queries.active(owner, keep), 'logout-others');
  }

  /** Logs out every device of `owner`. Returns how many were logged out. */
  async logoutAll(owner: string, reason: DeviceLogoutReason): Promise<number> {
    await this.retrier.cancel(owner);
    return this.logoutDevices(await this.queries.active(owner), reason);
  }

  /**
   * Logs the devices out and ends their sessions everywhere. Returns how many this call logged out: each row is
   * updated on its own, conditionally, so of two logouts that cross only one reports (and announces) a device.
   */
  async logoutDevices(devices: Device[], reason: DeviceLogoutReason): Promise<number> {
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
      const loggedOut = { isActive: false, revokedAt: new Date(this.clock.now()) };
      if (await this.store.logoutOnSession(device.id, device.sessionId, loggedOut)) {
        await this.revoker.revoke([device.sessionId]);
        return this.store.merge(device, loggedOut);
      }
      device = await this.store.findById(device.id);
    }
    return undefined;
  }
}
