import { afterEach, describe, expect, it, vi } from 'vitest';
// The clock the e2e suites inject: it is what the module's timers run on there, so it is checked here too.
import { ManualClock } from '../../test/support/manual-clock.js';
import { type Clock, systemClock, timersOf } from './clock.interface.js';

describe('timersOf', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each<[string, Clock]>([
    ['the system clock', systemClock],
    ['a clock with only now(), as the README overrides it', { now: () => 0 }],
    ['a clock with setTimeout but no clearTimeout', { now: () => 0, setTimeout: () => 1 }],
  ])('gives the global timers for %s', (_label, clock) => {
    vi.useFakeTimers();
    const timers = timersOf(clock);
    const once = vi.fn<() => void>();
    const every = vi.fn<() => void>();

    const timeout = timers.setTimeout(once, 100);
    const interval = timers.setInterval(every, 100);
    vi.advanceTimersByTime(250);

    expect(once).toHaveBeenCalledTimes(1);
    expect(every).toHaveBeenCalledTimes(2);
    timers.clearInterval(interval);
    const cleared = timers.setTimeout(once, 100);
    timers.clearTimeout(cleared);
    vi.advanceTimersByTime(1000);
    expect(once).toHaveBeenCalledTimes(1);
    expect(every).toHaveBeenCalledTimes(2);
    // Node.js timers, so the module can unref() those that must not keep the process alive.
    expect(typeof (timeout as NodeJS.Timeout).unref).toBe('function');
  });

  it("runs timeouts on the clock's timers when it has both", () => {
    const clock = new ManualClock();
    const timers = timersOf(clock);
    const once = vi.fn<() => void>();

    timers.setTimeout(once, 100);
    const cleared = timers.setTimeout(once, 50);
    timers.clearTimeout(cleared);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(99);
    expect(once).not.toHaveBeenCalled();
    clock.advance(1);
    expect(once).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("runs an interval on the clock's timeouts, every ms, until it is cleared", () => {
    const clock = new ManualClock(new Date(0));
    const timers = timersOf(clock);
    const runs: number[] = [];

    const interval = timers.setInterval(() => runs.push(clock.now()), 1000);
    clock.advance(3500);
    expect(runs).toEqual([1000, 2000, 3000]);
    timers.clearInterval(interval);
    clock.advance(5000);
    expect(runs).toEqual([1000, 2000, 3000]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops an interval cleared by its own callback', () => {
    const clock = new ManualClock(new Date(0));
    const timers = timersOf(clock);
    const runs: number[] = [];

    const interval = timers.setInterval(() => {
      runs.push(clock.now());
      if (runs.length === 2) timers.clearInterval(interval);
    }, 1000);
    clock.advance(10_000);
    expect(runs).toEqual([1000, 2000]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('ManualClock (test/support), the clock the e2e suites move', () => {
  it('stands still until moved', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    expect(clock.now()).toBe(Date.UTC(2030, 0, 1));
    clock.advance(1500);
    expect(clock.now()).toBe(Date.UTC(2030, 0, 1) + 1500);
  });

  it('runs the timers due by the target, earliest first, each at its own instant, and leaves the later ones', () => {
    const clock = new ManualClock(new Date(0));
    const runs: [string, number][] = [];
    const record = (name: string) => () => runs.push([name, clock.now()]);

    clock.setTimeout(record('c'), 300);
    clock.setTimeout(record('a'), 100);
    clock.setTimeout(record('b'), 200);
    clock.setTimeout(record('late'), 1001);
    clock.advance(1000);

    expect(runs).toEqual([
      ['a', 100],
      ['b', 200],
      ['c', 300],
    ]);
    expect(clock.now()).toBe(1000);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1);
    expect(runs.at(-1)).toEqual(['late', 1001]);
  });

  it('runs timers due at the same instant in the order they were set', () => {
    const clock = new ManualClock(new Date(0));
    const runs: string[] = [];
    for (const name of ['first', 'second', 'third']) clock.setTimeout(() => runs.push(name), 50);
    clock.advance(50);
    expect(runs).toEqual(['first', 'second', 'third']);
  });

  it('runs timers set by callbacks during the move when they are due by its target, counted from their instant', () => {
    const clock = new ManualClock(new Date(0));
    const runs: number[] = [];
    // A backoff: each run sets the next, twice as far.
    const step = (delay: number) => () => {
      runs.push(clock.now());
      clock.setTimeout(step(delay * 2), delay * 2);
    };
    clock.setTimeout(step(250), 250);

    clock.advance(2000);
    expect(runs).toEqual([250, 750, 1750]);
    clock.advance(1749);
    expect(runs).toEqual([250, 750, 1750]);
    clock.advance(1);
    expect(runs).toEqual([250, 750, 1750, 3750]);
  });

  it('never runs a cleared timer, and clearing twice or an unknown handle does nothing', () => {
    const clock = new ManualClock();
    const ran = vi.fn<() => void>();
    const handle = clock.setTimeout(ran, 10);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    clock.clearTimeout('not a handle');
    clock.advance(100);
    expect(ran).not.toHaveBeenCalled();
  });

  it('lets a callback clear a timer due later in the same move', () => {
    const clock = new ManualClock(new Date(0));
    const ran = vi.fn<() => void>();
    const later = clock.setTimeout(ran, 200);
    clock.setTimeout(() => clock.clearTimeout(later), 100);
    clock.advance(500);
    expect(ran).not.toHaveBeenCalled();
  });

  it('counts a delay below 1 ms (or not a number) as 1 ms, as Node.js does', () => {
    const clock = new ManualClock(new Date(0));
    const runs: number[] = [];
    clock.setTimeout(() => runs.push(clock.now()), 0);
    clock.setTimeout(() => runs.push(clock.now()), Number.NaN);
    clock.advance(0);
    expect(runs).toEqual([]);
    clock.advance(1);
    expect(runs).toEqual([1, 1]);
  });

  it('runs the due timers when set forward, none when set back, and moves only forward with advance()', () => {
    const clock = new ManualClock(new Date(1000));
    const ran = vi.fn<() => void>();
    clock.setTimeout(ran, 500);

    clock.set(new Date(0));
    expect(clock.now()).toBe(0);
    expect(ran).not.toHaveBeenCalled();
    clock.set(new Date(1499));
    expect(ran).not.toHaveBeenCalled();
    clock.set(new Date(1500));
    expect(ran).toHaveBeenCalledTimes(1);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(clock.now()).toBe(1500);
  });

  it("stops at a failing timer's instant and throws its error; the timers after it run on the next move", () => {
    const clock = new ManualClock(new Date(0));
    const ran = vi.fn<() => void>();
    clock.setTimeout(() => {
      throw new Error('callback failed');
    }, 100);
    clock.setTimeout(ran, 200);

    expect(() => clock.advance(1000)).toThrow('callback failed');
    expect(clock.now()).toBe(100);
    expect(ran).not.toHaveBeenCalled();
    clock.advance(900);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(clock.now()).toBe(1000);
  });
});
