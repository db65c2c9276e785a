import type { RevocationListener, RevocationNotifier } from '../interfaces/revocation-notifier.interface.js';

/**
 * The default notifier: announcements reach this process only. Right for a single instance; with several, use
 * `RedisRevocationNotifier`, or the others notice a logout only when their cached answer expires.
 */
export class InMemoryRevocationNotifier implements RevocationNotifier {
  private readonly listeners: RevocationListener[] = [];

  async publish(sessionIds: string[]): Promise<void> {
    for (const listener of this.listeners) listener.revoked(sessionIds);
  }

  async subscribe(listener: RevocationListener): Promise<void> {
    this.listeners.push(listener);
  }

  isListening(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
  }
}
