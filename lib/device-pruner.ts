import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from './device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from './device-tracker.options.js';
import { DeviceService } from './device.service.js';

/** Name of the interval the module registers with `@nestjs/schedule`'s `SchedulerRegistry`. */
export const PRUNE_INTERVAL_NAME = 'device-tracker:prune';

/**
 * Runs `DeviceService.prune()` on the `prune` schedule of the options, through `@nestjs/schedule` (an optional peer
 * dependency), so the interval is listed in the host's `SchedulerRegistry` and stopped with the app.
 */
@Injectable()
export class DevicePruner implements OnApplicationBootstrap {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly devices: DeviceService,
    private readonly moduleRef: ModuleRef,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const prune = this.options.prune;
    if (!prune) return;
    const registry = await this.schedulerRegistry();
    const timer = setInterval(() => void this.run(), prune.every);
    registry.addInterval(PRUNE_INTERVAL_NAME, timer);
    // A first pass now, so an app restarted more often than `every` still prunes.
    void this.run();
  }

  /** One pass; a failure is logged and the next pass tries again. */
  async run(): Promise<number> {
    try {
      const deleted = await this.devices.prune(this.options.prune!);
      if (deleted > 0) this.logger.log(`Pruned ${deleted} devices`);
      return deleted;
    } catch (error) {
      this.logger.warn(`Could not prune devices: ${(error as Error).message}`);
      return 0;
    }
  }

  private async schedulerRegistry(): Promise<{ addInterval(name: string, timer: NodeJS.Timeout): void }> {
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
