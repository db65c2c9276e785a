import { Inject, Injectable, Logger } from '@nestjs/common';
import { DEVICE_TRACKER_OPTIONS, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { RevocationNotifier } from '../interfaces/revocation-notifier.interface.js';
import { SessionCache } from '../sessions/session-cache.js';

/** Ends login sessions: here at once, on the other instances through the notifier, and in the session store. */
@Injectable()
export class SessionRevoker {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly sessions: SessionCache,
    @Inject(RevocationNotifier) private readonly notifier: RevocationNotifier,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /**
   * Refuses the sessions at once on this instance, announces them to the others, and destroys them in the
   * session store when there is one. An announcement that fails is logged; the others then notice within
   * `sessionCacheTtl`.
   */
  async revoke(sessionIds: (string | null)[]): Promise<void> {
    const ids = sessionIds.filter((id): id is string => Boolean(id));
    if (ids.length === 0) return;
    this.sessions.revoked(ids);
    this.notifier
      .publish(ids)
      .catch((error: Error) => this.logger.warn(`Could not announce a logout to other instances: ${error.message}`));
    const store = this.options.sessionStore;
    if (!store) return;
    await Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve) =>
            store.destroy(id, (error) => {
              if (error) this.logger.warn(`Could not destroy a logged-out session: ${(error as Error).message}`);
              resolve();
            }),
          ),
      ),
    );
  }
}
