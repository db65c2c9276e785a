/**
 * Where the module reads the time: every instant it records (logins, logouts, last seen) or compares (the
 * `lastSeenInterval`, `refreshReuseGrace`, the session cache's lifetimes, `prune` cut-offs). Override the
 * `DeviceTrackerClock` provider in tests to move time on instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
}

/** Injection token of the {@link Clock}; the module provides the system clock under it. */
export const DeviceTrackerClock = Symbol('DeviceTrackerClock');

/** The default clock. */
export const systemClock: Clock = { now: () => Date.now() };
