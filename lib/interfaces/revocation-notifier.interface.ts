/** What a {@link RevocationNotifier} calls on each instance that subscribed. */
export interface RevocationListener {
  /** Sessions logged out on any instance: they must be refused from now on. */
  revoked(sessionIds: string[]): void;
  /**
   * Announcements may have been missed (e.g. the connection to Redis was lost and is back): forget every session
   * remembered as active, so the next request asks the database.
   */
  resync(): void;
}

/**
 * Carries "these sessions were logged out" to every app instance, so each one can drop them from its cache at
 * once. The database stays the source of truth: an instance that misses an announcement only answers from its
 * cache for `sessionCacheTtl`, and not at all while {@link RevocationNotifier.isListening} is false.
 */
export interface RevocationNotifier {
  /** Announces revoked sessions to every instance. May resolve before they are delivered. */
  publish(sessionIds: string[]): Promise<void>;
  /** Registers this instance's listener; called once, when the module starts. */
  subscribe(listener: RevocationListener): Promise<void>;
  /** Whether announcements are being received right now; while false, every check goes to the database. */
  isListening(): boolean;
  /** Releases connections the notifier opened itself; called when the module stops. */
  close(): Promise<void>;
}

/**
 * Injection token of the {@link RevocationNotifier} in use: the `revocationNotifier` option, else an
 * `InMemoryRevocationNotifier`. Inject it with `@Inject(RevocationNotifier)`.
 */
export const RevocationNotifier = Symbol('RevocationNotifier');
