import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import { DeviceStore } from '../persistence/device.store.js';
import { lifetimesOn } from './lru-clock.js';
import { storeErrorMessage } from '../persistence/store-error.js';

/**
 * Records when a device was last seen, and from where, on every authenticated request, while writing at most once
 * per device per `lastSeenInterval` on this instance (and, through a conditional update, across instances). The
 * write is left to `defer` (the guard runs it after the response) and its failure only costs a stale `lastSeenAt`.
 */
@Injectable()
export class LastSeenRecorder {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly lastWrites: LRUCache<string, number> | undefined;

  constructor(
    private readonly store: DeviceStore,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {
    const interval = options.lastSeenInterval;
    this.lastWrites =
      interval === false
        ? undefined
        : new LRUCache({ max: options.sessionCacheSize || 1, ttl: interval, ...lifetimesOn(clock) });
  }

  /**
   * Notes that the device made a request from the address `ipAddress` gives (asked only when a write is due: most
   * requests need none); `defer` runs the write.
   */
  record(deviceId: string, ipAddress: () => string | null, defer: (write: () => void) => void = setImmediate): void {
    const interval = this.options.lastSeenInterval;
    if (interval === false || this.lastWrites?.has(deviceId)) return;
    const address = ipAddress();
    const now = this.clock.now();
    this.lastWrites?.set(deviceId, now);
    defer(() => {
      this.store
        .recordSeen(deviceId, address, new Date(now), new Date(now - interval))
        .catch((error: Error) =>
          this.logger.warn(`Could not record when device ${deviceId} was last seen: ${storeErrorMessage(error)}`),
        );
    });
  }
}
