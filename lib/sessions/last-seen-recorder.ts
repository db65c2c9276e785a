import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { recordedIp } from '../http/client-ip.js';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { DeviceService } from '../device.service.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

/**
 * Records when a device was last seen, and from where, on every authenticated request, while writing at most once
 * per device per `lastSeenInterval` on this instance (and, through a conditional update, across instances). The
 * write happens after the request has been answered and its failure only costs a stale `lastSeenAt`.
 */
@Injectable()
export class LastSeenRecorder {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly lastWrites: LRUCache<string, number> | undefined;

  constructor(
    private readonly devices: DeviceService,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {
    const interval = options.lastSeenInterval;
    this.lastWrites =
      interval === false ? undefined : new LRUCache({ max: options.sessionCacheSize || 1, ttl: interval });
  }

  /** Notes that the device made `request`; the write, when one is due, waits until `response` has been sent. */
  record(deviceId: string, request: DeviceRequest, response: FinishingResponse): void {
    const interval = this.options.lastSeenInterval;
    if (interval === false || this.lastWrites?.has(deviceId)) return;
    const now = Date.now();
    this.lastWrites?.set(deviceId, now);
    const ipAddress = recordedIp(request, this.options.storeIpAddress);
    afterResponse(response, () => {
      this.devices
        .recordSeen(deviceId, ipAddress, new Date(now), new Date(now - interval))
        .catch((error: Error) =>
          this.logger.warn(`Could not record when device ${deviceId} was last seen: ${error.message}`),
        );
    });
  }
}

/** A response that says when it has been sent: Node's (Express) directly, Fastify's reply through `raw`. */
export interface FinishingResponse {
  once?(event: 'finish' | 'close', listener: () => void): unknown;
  raw?: FinishingResponse;
}

/** Runs `callback` once the response has been sent or the connection closed, whichever comes first. */
function afterResponse(response: FinishingResponse, callback: () => void): void {
  const target = typeof response.once === 'function' ? response : response.raw;
  if (typeof target?.once !== 'function') {
    setImmediate(callback);
    return;
  }
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    callback();
  };
  target.once('finish', run);
  target.once('close', run);
}
