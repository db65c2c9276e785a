import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from './device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';

/** What happened to the logins whose tracking could not be written at once. */
export interface TrackingRetryStats {
  /** Logins whose first write failed. */
  failed: number;
  /** Of those, written by a later attempt. */
  recovered: number;
  /** Of those, given up after `trackingRetries` attempts (or because the app stopped). */
  abandoned: number;
  /** Waiting for their next attempt now. */
  pending: number;
}

/** First wait before a retry; each next one doubles, up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;

/**
 * Retries, in the background, the tracking writes of logins that succeeded while the database could not record
 * them, a bounded number of times with exponential backoff. Counts what happens, for your metrics: inject it and
 * read {@link stats}. The retried write is `DeviceService.track` on the session the login was given, so a write that
 * did land after all is only updated, never duplicated.
 */
@Injectable()
export class TrackingRetrier implements OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counts = { failed: 0, recovered: 0, abandoned: 0 };

  constructor(@Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions) {}

  stats(): TrackingRetryStats {
    return { ...this.counts, pending: this.timers.size };
  }

  /** Takes over a login whose tracking write failed; `write` is tried again up to `trackingRetries` times. */
  retry(write: () => Promise<unknown>, error: Error): void {
    this.counts.failed++;
    this.logger.warn(`Login succeeded but its device could not be tracked yet: ${error.message}`);
    this.schedule(write, 1);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.counts.abandoned += this.timers.size;
    this.timers.clear();
  }

  private schedule(write: () => Promise<unknown>, attempt: number): void {
    if (attempt > this.options.trackingRetries) {
      this.counts.abandoned++;
      this.logger.error(`Gave up tracking a login after ${this.options.trackingRetries} retries`);
      return;
    }
    const delay = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      write().then(
        () => {
          this.counts.recovered++;
          this.logger.log(`Tracked a login on retry ${attempt}`);
        },
        () => this.schedule(write, attempt + 1),
      );
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }
}
