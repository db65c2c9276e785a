import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { Clock } from '../interfaces/clock.interface.js';
import type { PruneScheduleOptions } from '../interfaces/device-tracker-options.interface.js';
import { DevicePruner, PRUNE_INTERVAL_NAME } from './device-pruner.js';
import type { PruneService } from './prune.service.js';

const EVERY = 60_000;

/** Lets the promise callbacks of a pass that has finished run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A prune whose passes the test ends: each call waits for `finish()`, with how many it deleted. */
function heldPrune() {
  const passes: { at: number; finish: (deleted: number) => void }[] = [];
  return {
    passes,
    service(clock: Clock): PruneService {
      return {
        prune: vi.fn<() => Promise<number>>(
          () =>
            new Promise<number>((resolve) => {
              passes.push({ at: clock.now(), finish: resolve });
            }),
        ),
      } as unknown as PruneService;
    },
  };
}

function prunerWith(
  clock: Clock,
  pruning: PruneService,
  prune: PruneScheduleOptions = { inactiveFor: 1, every: EVERY },
) {
  const registry = new SchedulerRegistry();
  const moduleRef = { get: () => registry } as unknown as ModuleRef;
  const pruner = new DevicePruner(pruning, moduleRef, resolveDeviceTrackerOptions({ prune }), clock);
  return { pruner, registry };
}

describe('DevicePruner', () => {
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it("prunes at start, then every `every` ms on the clock's timers, never two passes at once", async () => {
    const clock = new ManualClock(new Date(0));
    const held = heldPrune();
    const { pruner, registry } = prunerWith(clock, held.service(clock));

    await pruner.onApplicationBootstrap();
    expect(registry.getIntervals()).toEqual([PRUNE_INTERVAL_NAME]);
    expect(held.passes.map(({ at }) => at)).toEqual([0]);

    clock.advance(EVERY - 1);
    expect(held.passes).toHaveLength(1);
    // The first pass is still under way at the next tick: that tick starts none.
    clock.advance(1);
    expect(held.passes).toHaveLength(1);
    held.passes[0]!.finish(3);
    await settled();
    clock.advance(EVERY);
    expect(held.passes.map(({ at }) => at)).toEqual([0, 2 * EVERY]);
    held.passes[1]!.finish(0);
  });

  it('stops its schedule at shutdown, after the pass under way has finished', async () => {
    const clock = new ManualClock(new Date(0));
    const held = heldPrune();
    const { pruner } = prunerWith(clock, held.service(clock));
    await pruner.onApplicationBootstrap();

    let stopped = false;
    const stopping = pruner.beforeApplicationShutdown().then(() => (stopped = true));
    await settled();
    expect(stopped).toBe(false);
    held.passes[0]!.finish(0);
    await stopping;

    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10 * EVERY);
    expect(held.passes).toHaveLength(1);
  });

  it('keeps the global setInterval, listed in the SchedulerRegistry and stopped by it, with a clock without timers', async () => {
    vi.useFakeTimers();
    const clock: Clock = { now: () => Date.now() };
    const prune = vi.fn<() => Promise<number>>(async () => 0);
    const { pruner, registry } = prunerWith(clock, { prune } as unknown as PruneService);

    await pruner.onApplicationBootstrap();
    const timer = registry.getInterval<NodeJS.Timeout>(PRUNE_INTERVAL_NAME);
    // A Node.js interval, which keeps the process alive as it did before the clock could drive it.
    expect(timer.hasRef()).toBe(true);
    await vi.advanceTimersByTimeAsync(2 * EVERY);
    expect(prune).toHaveBeenCalledTimes(3);

    registry.deleteInterval(PRUNE_INTERVAL_NAME);
    await vi.advanceTimersByTimeAsync(5 * EVERY);
    expect(prune).toHaveBeenCalledTimes(3);
    await pruner.beforeApplicationShutdown();
  });

  it('registers nothing and sets no timer without the prune option', async () => {
    const clock = new ManualClock();
    const registry = new SchedulerRegistry();
    const moduleRef = { get: () => registry } as unknown as ModuleRef;
    const prune = vi.fn<() => Promise<number>>(async () => 0);
    const pruner = new DevicePruner(
      { prune } as unknown as PruneService,
      moduleRef,
      resolveDeviceTrackerOptions({}),
      clock,
    );

    await pruner.onApplicationBootstrap();
    await pruner.beforeApplicationShutdown();

    expect(registry.getIntervals()).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
    expect(prune).not.toHaveBeenCalled();
  });

  it('clears its timer when the interval cannot be registered', async () => {
    const clock = new ManualClock();
    const { pruner, registry } = prunerWith(clock, {
      prune: vi.fn<() => Promise<number>>(async () => 0),
    } as unknown as PruneService);
    registry.addInterval(PRUNE_INTERVAL_NAME, 'taken');

    await expect(pruner.onApplicationBootstrap()).rejects.toThrow(PRUNE_INTERVAL_NAME);
    expect(clock.pendingTimers()).toBe(0);
  });
});
