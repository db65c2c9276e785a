import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DEFAULTS } from '../device-tracker.defaults.js';
import { MAX_PRUNE_AGE_MS, MAX_PRUNE_BATCH_SIZE } from '../device-tracker.constants.js';
import { type Clock, DeviceTrackerClock } from '../interfaces/clock.interface.js';
import { DeviceStore } from '../persistence/device.store.js';
import { SessionRevoker } from '../revocation/session-revoker.js';

/** What `DeviceService.prune()` deletes. */
export interface PruneOptions {
  /** Delete devices not seen for this many milliseconds, active or not. */
  inactiveFor: number;
  /** Delete logged-out devices logged out this many milliseconds ago. Default: `inactiveFor`. */
  loggedOutFor?: number;
  /** Rows deleted per statement. Default: `500` (`DEFAULTS.pruneBatchSize`). */
  batchSize?: number;
}

/** Deletes old devices in short batches; an active device deleted this way is logged out everywhere. */
@Injectable()
export class PruneService {
  constructor(
    private readonly store: DeviceStore,
    private readonly revoker: SessionRevoker,
    @Inject(DeviceTrackerClock) private readonly clock: Clock,
  ) {}

  /** Returns how many devices were deleted. */
  async prune({
    inactiveFor,
    loggedOutFor = inactiveFor,
    batchSize = DEFAULTS.pruneBatchSize,
  }: PruneOptions): Promise<number> {
    for (const [name, value, max] of [
      ['inactiveFor', inactiveFor, MAX_PRUNE_AGE_MS],
      ['loggedOutFor', loggedOutFor, MAX_PRUNE_AGE_MS],
      ['batchSize', batchSize, MAX_PRUNE_BATCH_SIZE],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1 || value > max) {
        throw new BadRequestException(`prune: ${name} must be a whole number from 1 to ${max} (got ${value})`);
      }
    }
    const now = this.clock.now();
    const cutoffs = { unseenBefore: new Date(now - inactiveFor), loggedOutBefore: new Date(now - loggedOutFor) };
    let deleted = 0;
    for (;;) {
      const batch = await this.store.prunable(cutoffs, batchSize);
      if (batch.length === 0) return deleted;
      const result = await this.store.deletePrunable(
        batch.map((device) => device.id),
        cutoffs,
      );
      const gone = batch.filter((device) => !result.kept.has(device.id));
      deleted += gone.length;
      await this.revoker.revoke(gone.filter((device) => device.isActive).map((device) => device.sessionId));
      if (batch.length < batchSize || result.deleted === 0) return deleted;
    }
  }
}
