import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { type Clock, DeviceTrackerClock, timersOf } from '../interfaces/clock.interface.js';
import { PruneService } from './prune.service.js';
import { storeErrorMessage } from '../persistence/store-error.js';

/** Name of the interval the module registers with `@nestjs/schedule`'s `SchedulerRegistry`. */
export const PRUNE_INTERVAL_NAME = 'device-tracker:prune';

/**
 * Runs `PruneService.prune()` (what `DeviceService.prune()` calls) on the `prune` schedule of the options, through
 * `@nestjs/schedule` (an optional peer dependency), so the interval is listed in the host's `SchedulerRegistry` and
 * stopped with the app. The interval runs on the `DeviceTrackerClock`'s timers when it has some.
 */
@Injectable()
export class DevicePruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** The pass under way, so passes never overlap and shutdown can wait for it. */
  private running?: Promise<number>;
  /** Stops the schedule; set once it runs. */
  private stop?: () => void;

  constructor(
    private readonly pruning: PruneService,
    private readonly moduleRef: ModuleRef,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const prune = this.options.prune;
    if (!prune) return;
    const registry = await this.schedulerRegistry();
    const timers = timersOf(this.clock);
    const timer = timers.setInterval(() => void this.run(), prune.every);
    this.stop = () => timers.clearInterval(timer);
    try {
      registry.addInterval(PRUNE_INTERVAL_NAME, timer);
    } catch (error) {
      this.stop();
      throw error;
    }
    // A first pass now, so an app restarted more often than `every` still prunes.
    void this.run();
  }

  /**
   * Stops the schedule (`@nestjs/schedule` stops it too, with the global `clearInterval`, which cannot stop one on a
   * clock's timers) and lets a pass under way finish before the database connection closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stop?.();
    await this.running;
  }

  /** One pass, unless one is under way; a failure is logged and the next pass tries again. */
  run(): Promise<number> {
    const prune = this.options.prune;
    if (!prune) return Promise.resolve(0);
    this.running ??= this.pruning
      .prune(prune)
      .then(
        (deleted) => {
          if (deleted > 0) this.logger.log(`Pruned ${deleted} devices`);
          return deleted;
        },
        (error: Error) => {
          this.logger.warn(`Could not prune devices: ${storeErrorMessage(error)}`);
          return 0;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async schedulerRegistry(): Promise<{ addInterval(name: string, timer: unknown): void }> {
    try {
      const { SchedulerRegistry } = await import('@nestjs/schedule');
      return this.moduleRef.get(SchedulerRegistry, { strict: false });
    } catch {
      throw new Error(
        'DeviceTrackerModule: the prune option needs @nestjs/schedule installed and ScheduleModule.forRoot() imported',
      );
    }
  }
}
