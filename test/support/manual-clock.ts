import type { Clock } from 'nestjs-device-tracker';

/** A timer of the clock: when it is due, and what it runs. */
interface ManualTimer {
  due: number;
  callback: () => void;
}

/** The longest a Node.js timer waits; as there, a delay outside 1 ms to this counts as 1 ms. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * A `DeviceTrackerClock` that stands still until the test moves it, so waiting for an interval takes no time. Its
 * timers (the module's retry backoff and prune schedule) run when the test moves it past them, in the order they are
 * due, at their own instant, and only then.
 */
export class ManualClock implements Clock {
  private time: number;
  /** Waiting timers by handle; handles grow, so of timers due at the same instant the one set first runs first. */
  private readonly timers = new Map<number, ManualTimer>();
  private lastHandle = 0;

  constructor(start: Date = new Date()) {
    this.time = start.getTime();
  }

  /** The clock's time, in milliseconds since the epoch: where the test left it. */
  now(): number {
    return this.time;
  }

  /** Runs `callback` once the test has moved the clock `ms` milliseconds on; returns the handle to clear it with. */
  setTimeout(callback: () => void, ms: number): number {
    const delay = ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1;
    this.timers.set(++this.lastHandle, { due: this.time + delay, callback });
    return this.lastHandle;
  }

  /** Forgets a waiting timer, so its callback never runs; a handle it does not know is ignored. */
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** How many timers wait to run. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves the clock `ms` milliseconds on, running every timer due by then, the one due first first, with the clock
   * at its instant; that includes timers the callbacks set, when due by then. Synchronous: what a callback starts
   * (a database write) is still under way when it returns, and a timer set once that ends waits for the next move.
   * An error a callback throws leaves the clock at that timer's instant, and comes out of here.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock moves forward only (got ${ms} ms)`);
    const target = this.time + ms;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      const [handle, timer] = next;
      this.timers.delete(handle);
      this.time = timer.due;
      timer.callback();
    }
    this.time = target;
  }

  /** Sets the time: forward, as {@link advance} does; back, without running a timer (they keep their instants). */
  set(date: Date): void {
    const time = date.getTime();
    if (time >= this.time) this.advance(time - this.time);
    else this.time = time;
  }

  /** The timer due first by `target`, if any: the earliest instant, then the first set. */
  private nextDue(target: number): [number, ManualTimer] | undefined {
    let next: [number, ManualTimer] | undefined;
    for (const entry of this.timers) {
      if (entry[1].due <= target && (!next || entry[1].due < next[1].due)) next = entry;
    }
    return next;
  }
}
