import { HttpException, Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { type Clock, type ClockTimers, DeviceTrackerClock, timersOf } from '../interfaces/clock.interface.js';
import { storeErrorMessage } from '../persistence/store-error.js';

/** What happened to the logins whose tracking could not be written at once. */
export interface TrackingRetryStats {
  /** Logins whose first write failed. */
  failed: number;
  /** Of those, written by a later attempt. */
  recovered: number;
  /**
   * Of those, given up: after `trackingRetries` attempts, when the write was refused for good (e.g. `maxDevices`),
   * when the user logged the device out first, or when the app stopped.
   */
  abandoned: number;
  /** Waiting for their next attempt, or being written, now. */
  pending: number;
}

/** A login whose tracking write is waiting to be retried. */
export interface PendingLogin {
  userId: string;
  deviceId: string;
  sessionId: string;
  write: () => Promise<unknown>;
}

/** First wait before a retry (ms, on the `DeviceTrackerClock`); each next one doubles, up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;

/**
 * Retries, in the background, the tracking writes of logins that succeeded while the database could not record
 * them, a bounded number of times with exponential backoff. Counts what happens, for your metrics: inject it and
 * read {@link stats}. The retried write is `DeviceService.track` on the session the login was given, so a write that
 * did land after all is only updated, never duplicated. A logout of the user's devices on this instance cancels
 * the retries it covers, and waits for any of them already being written, so a retry cannot bring back a device
 * logged out after the login.
 */
@Injectable()
export class TrackingRetrier implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Each login waiting for its next attempt (its timer) or being written (the attempt, settled when done). */
  private readonly pending = new Map<PendingLogin, { timer: unknown } | { writing: Promise<void> }>();
  private readonly counts = { failed: 0, recovered: 0, abandoned: 0 };
  private readonly timers: ClockTimers;
  private closed = false;

  constructor(
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
    @Inject(DeviceTrackerClock) clock: Clock,
  ) {
    this.timers = timersOf(clock);
  }

  stats(): TrackingRetryStats {
    return { ...this.counts, pending: this.pending.size };
  }

  /** Whether this session's login is still waiting for its device to be written. */
  isPending(sessionId: string): boolean {
    return [...this.pending.keys()].some((login) => login.sessionId === sessionId);
  }

  /** Takes over a login whose tracking write failed; it is tried again up to `trackingRetries` times. */
  retry(login: PendingLogin, error: Error): void {
    this.counts.failed++;
    this.logger.warn(`Login succeeded but its device could not be tracked yet: ${storeErrorMessage(error)}`);
    this.schedule(login, 1);
  }

  /**
   * Gives up the retries of the user's logins, those on `only` devices or all but the `except` device: the user
   * logged them out. Resolves once none of them is being written any more: an attempt already sent could otherwise
   * land after the logout and bring the device back.
   */
  async cancel(userId: string, { only, except }: { only?: string[]; except?: string } = {}): Promise<void> {
    const writing: Promise<void>[] = [];
    for (const [login, state] of this.pending) {
      if (login.userId !== userId || (only && !only.includes(login.deviceId)) || login.deviceId === except) continue;
      if ('writing' in state) writing.push(state.writing);
      this.abandon(login);
    }
    await Promise.all(writing);
  }

  /** Before the database connection closes: no retry may start after it. */
  beforeApplicationShutdown(): void {
    this.closed = true;
    for (const login of this.pending.keys()) this.abandon(login);
  }

  private schedule(login: PendingLogin, attempt: number): void {
    if (this.closed || attempt > this.options.trackingRetries) {
      this.abandon(login);
      if (!this.closed) this.logger.error(`Gave up tracking a login after ${this.options.trackingRetries} retries`);
      return;
    }
    const delay = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
    const timer = this.timers.setTimeout(() => {
      if (!this.pending.has(login)) return;
      const written = login.write().then(
        () => {
          if (!this.pending.delete(login)) return;
          this.counts.recovered++;
          this.logger.log(`Tracked a login on retry ${attempt}`);
        },
        (error: unknown) => {
          if (!this.pending.has(login)) return;
          if (error instanceof HttpException) {
            this.logger.warn(`Gave up tracking a login: ${storeErrorMessage(error)}`);
            this.abandon(login);
          } else {
            this.schedule(login, attempt + 1);
          }
        },
      );
      this.pending.set(login, { writing: written });
    }, delay);
    // A login waiting for its retry does not keep the process alive (an injected clock's timers may have no unref).
    (timer as { unref?: () => unknown }).unref?.();
    this.pending.set(login, { timer });
  }

  private abandon(login: PendingLogin): void {
    const state = this.pending.get(login);
    if (state && 'timer' in state) this.timers.clearTimeout(state.timer);
    this.pending.delete(login);
    this.counts.abandoned++;
  }
}
