/**
 * Where the module reads the time and waits for it: every instant it records (logins, logouts, last seen) or compares
 * (the `lastSeenInterval`, `refreshReuseGrace`, the session cache's lifetimes, `prune` cut-offs), and, when the clock
 * has timers, the waits it sets (the backoff of `trackingRetries`, the `prune` schedule). Override the
 * `DeviceTrackerClock` provider in tests to move time on instead of sleeping: `{ now: () => now }` is enough for the
 * instants; give `setTimeout` and `clearTimeout` too, and moving the clock on runs the module's timers as well.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /**
   * Runs `callback` once, `ms` milliseconds from now by this clock, as the global `setTimeout` does, and returns a
   * handle for {@link clearTimeout}. Optional: the module uses the clock's timers only when it has both members, and
   * the global ones otherwise (the default). When the handle has an `unref()` (a Node.js timer), the module calls it
   * where a wait must not keep the process alive, as it does with the global timers (a tracking retry).
   */
  setTimeout?(callback: () => void, ms: number): unknown;
  /**
   * Cancels a timer {@link setTimeout} set, so that its callback never runs; does nothing once it has run or been
   * cancelled. Optional, with `setTimeout`: without both, the module uses the global timers.
   */
  clearTimeout?(handle: unknown): void;
}

/** Injection token of the {@link Clock}; the module provides the system clock under it. */
export const DeviceTrackerClock = Symbol('DeviceTrackerClock');

/** The default clock: the system's time, and the global timers. */
export const systemClock: Clock = { now: () => Date.now() };

/** The timers the module sets, on a {@link Clock}'s time (see {@link timersOf}). */
export interface ClockTimers {
  /** Runs `callback` once, `ms` milliseconds from now; returns the handle {@link clearTimeout} takes. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer of {@link setTimeout} that has not run. */
  clearTimeout(handle: unknown): void;
  /** Runs `callback` every `ms` milliseconds until {@link clearInterval}; returns the handle it takes. */
  setInterval(callback: () => void, ms: number): unknown;
  /** Stops a timer of {@link setInterval}. */
  clearInterval(handle: unknown): void;
}

const globalTimers: ClockTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/** A repeating timer on a clock's timeouts: the one waiting now. */
interface ClockInterval {
  timeout?: unknown;
}

/**
 * The clock's timers when it has both `setTimeout` and `clearTimeout`, else the global ones (so a host's
 * `{ now }` clock keeps the real timers). On the clock's, an interval is a timeout set again each time it runs.
 */
export function timersOf(clock: Clock): ClockTimers {
  if (typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') return globalTimers;
  const set = (callback: () => void, ms: number) => clock.setTimeout!(callback, ms);
  const clear = (handle: unknown) => clock.clearTimeout!(handle);
  return {
    setTimeout: set,
    clearTimeout: clear,
    setInterval: (callback, ms) => {
      const interval: ClockInterval = {};
      const arm = () => {
        interval.timeout = set(() => {
          // Set again before the callback runs, so a callback that clears the interval clears the next run.
          arm();
          callback();
        }, ms);
      };
      arm();
      return interval;
    },
    clearInterval: (handle) => clear((handle as ClockInterval).timeout),
  };
}
