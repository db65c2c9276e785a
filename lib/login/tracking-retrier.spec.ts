import { ForbiddenException, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { Clock } from '../interfaces/clock.interface.js';
import { type PendingLogin, TrackingRetrier } from './tracking-retrier.js';

const dropped = () => new Error('connection terminated unexpectedly');

/** A login whose writes answer, in turn, as `outcomes` say (then succeed), and which records when each was tried. */
function loginThat(clock: Clock, outcomes: (Error | 'ok')[], who: Partial<PendingLogin> = {}) {
  const tries: number[] = [];
  const login: PendingLogin = {
    userId: 'alice',
    deviceId: 'device-a',
    sessionId: 'session-a',
    ...who,
    write: vi.fn<() => Promise<void>>(async () => {
      tries.push(clock.now());
      const outcome = outcomes.shift() ?? 'ok';
      if (outcome !== 'ok') throw outcome;
    }),
  };
  return { login, tries };
}

/** Lets the promise callbacks of a write that has settled run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('TrackingRetrier', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(new Date(0));
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const retrierWith = (trackingRetries = 6, on: Clock = clock) =>
    new TrackingRetrier(resolveDeviceTrackerOptions({ trackingRetries }), on);

  it('gives up after trackingRetries failed attempts, and counts it', async () => {
    const retrier = retrierWith(3);
    const { login, tries } = loginThat(clock, Array.from({ length: 3 }, dropped));

    retrier.retry(login, dropped());
    for (let round = 0; round < 5; round++) {
      clock.advance(8000);
      await settled();
    }

    // Each failure is seen at the end of a move (8000, 16000), and the next wait (500, 1000) counts from there.
    expect(tries).toEqual([250, 8500, 17_000]);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('waits 250, 500, 1000, 2000, 4000 and 8000 ms between attempts, and never more', async () => {
    const retrier = retrierWith(7);
    const { login, tries } = loginThat(clock, Array.from({ length: 7 }, dropped));

    retrier.retry(login, dropped());
    for (const [attempt, wait] of [250, 500, 1000, 2000, 4000, 8000, 8000].entries()) {
      clock.advance(wait - 1);
      expect(tries).toHaveLength(attempt);
      clock.advance(1);
      expect(tries).toHaveLength(attempt + 1);
      await settled();
    }
    expect(tries).toEqual([250, 750, 1750, 3750, 7750, 15_750, 23_750]);
  });

  it('counts a write that lands on a retry as recovered', async () => {
    const retrier = retrierWith();
    const { login, tries } = loginThat(clock, [dropped()]);

    retrier.retry(login, dropped());
    expect(retrier.isPending('session-a')).toBe(true);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 0, pending: 1 });
    clock.advance(250);
    await settled();
    clock.advance(500);
    await settled();

    expect(tries).toEqual([250, 750]);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 1, abandoned: 0, pending: 0 });
    expect(retrier.isPending('session-a')).toBe(false);
  });

  it('gives up at once a write refused for good (an HttpException)', async () => {
    const retrier = retrierWith();
    const { login, tries } = loginThat(clock, [new ForbiddenException('one device too many')]);

    retrier.retry(login, dropped());
    clock.advance(250);
    await settled();
    clock.advance(60_000);

    expect(tries).toEqual([250]);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('with trackingRetries: 0, gives up without waiting', () => {
    const retrier = retrierWith(0);
    const { login } = loginThat(clock, []);

    retrier.retry(login, dropped());
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it("cancels the user's waiting retries, only those on `only` devices or all but the `except` one", async () => {
    const retrier = retrierWith();
    const laptop = loginThat(clock, [], { deviceId: 'laptop', sessionId: 's-laptop' });
    const phone = loginThat(clock, [], { deviceId: 'phone', sessionId: 's-phone' });
    const tablet = loginThat(clock, [], { deviceId: 'tablet', sessionId: 's-tablet' });
    const bobs = loginThat(clock, [], { userId: 'bob', deviceId: 'bobs', sessionId: 's-bobs' });
    for (const { login } of [laptop, phone, tablet, bobs]) retrier.retry(login, dropped());

    await retrier.cancel('alice', { only: ['laptop'] });
    expect(retrier.stats()).toMatchObject({ abandoned: 1, pending: 3 });
    await retrier.cancel('alice', { except: 'phone' });
    expect(retrier.stats()).toMatchObject({ abandoned: 2, pending: 2 });
    clock.advance(250);
    await settled();

    expect([laptop, phone, tablet, bobs].map(({ tries }) => tries)).toEqual([[], [250], [], [250]]);
    expect(retrier.stats()).toEqual({ failed: 4, recovered: 2, abandoned: 2, pending: 0 });
  });

  it('resolves a cancel only once a retry already being written has landed', async () => {
    const retrier = retrierWith();
    let land!: () => void;
    const login: PendingLogin = {
      userId: 'alice',
      deviceId: 'device-a',
      sessionId: 'session-a',
      write: () => new Promise<void>((resolve) => (land = resolve)),
    };
    retrier.retry(login, dropped());
    clock.advance(250);

    let cancelled = false;
    const cancelling = retrier.cancel('alice').then(() => (cancelled = true));
    await settled();
    expect(cancelled).toBe(false);
    land();
    await cancelling;
    // Given up: the write that landed is not counted as recovered.
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
  });

  it('starts no retry once the app is closing, and clears its timers', () => {
    const retrier = retrierWith();
    const { login, tries } = loginThat(clock, []);
    retrier.retry(login, dropped());

    retrier.beforeApplicationShutdown();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(60_000);
    expect(tries).toEqual([]);
    expect(retrier.stats()).toEqual({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
    retrier.retry(loginThat(clock, []).login, dropped());
    expect(retrier.stats()).toEqual({ failed: 2, recovered: 0, abandoned: 2, pending: 0 });
  });

  it('does not keep the process alive while a retry waits: it unrefs the timer when it can', () => {
    const unref = vi.fn<() => void>();
    const handles: unknown[] = [];
    const clockWithNodeTimers: Clock = {
      now: () => 0,
      setTimeout: () => {
        const handle = { unref };
        handles.push(handle);
        return handle;
      },
      clearTimeout: () => undefined,
    };
    retrierWith(6, clockWithNodeTimers).retry(loginThat(clock, []).login, dropped());
    expect(handles).toHaveLength(1);
    expect(unref).toHaveBeenCalledTimes(1);

    // The global timers, as with the system clock: a Node.js timer, unrefed.
    vi.useFakeTimers();
    const setTimeout = vi.spyOn(globalThis, 'setTimeout');
    try {
      retrierWith(6, { now: () => 0 }).retry(loginThat(clock, []).login, dropped());
      const timer = setTimeout.mock.results[0]!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
    } finally {
      // In this order, so that the global setTimeout is the real one again.
      setTimeout.mockRestore();
      vi.useRealTimers();
    }
  });
});
