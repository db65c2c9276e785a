import { type Clock, systemClock } from '../interfaces/clock.interface.js';

/**
 * lru-cache's options for measuring lifetimes on `clock`. The system clock keeps lru-cache's own monotonic one (a
 * wall clock set back would stretch every lifetime); an injected clock is read on every check, not once a millisecond.
 */
export function lifetimesOn(clock: Clock): { perf?: Clock; ttlResolution?: number } {
  return clock === systemClock ? {} : { perf: clock, ttlResolution: 0 };
}
