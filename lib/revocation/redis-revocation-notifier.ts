import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';
import { DEFAULTS } from '../device-tracker.defaults.js';
import type { RevocationListener, RevocationNotifier } from '../interfaces/revocation-notifier.interface.js';

/** The calls the notifier makes on an ioredis connection; described here so the module does not import ioredis. */
export interface RedisConnection {
  readonly status: string;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  duplicate(): RedisConnection;
  quit(): Promise<unknown>;
  /** Closes at once, dropping queued commands: `quit()` waits behind them, so a shutdown during an outage hangs. */
  disconnect(): void;
}

/** Whether `value` is an ioredis connection (or anything with the calls the notifier makes). */
export function isRedisConnection(value: unknown): value is RedisConnection {
  const candidate = value as Partial<Record<keyof RedisConnection, unknown>> | null;
  return typeof candidate?.publish === 'function' && typeof candidate.duplicate === 'function';
}

export interface RedisRevocationNotifierOptions {
  /** Pub/sub channel; instances that must agree use the same one. Default: `'device-tracker:revocations'`. */
  channel?: string;
  /** Also quit `client` when the module stops: for a client made for the notifier alone. Default: `false`. */
  closeClient?: boolean;
}

/**
 * Announces revocations over Redis pub/sub, so a logout on one instance is honoured by every other one at once.
 * Give it your ioredis client: it publishes through it and subscribes through its own duplicate, which it closes
 * when the module stops (your client is left open).
 *
 * Pub/sub delivers only to instances connected at the time, so this instance reports itself as not listening
 * from the moment its subscription drops until it is re-established, and then asks for a resync: in between,
 * every check goes to the database.
 */
export class RedisRevocationNotifier implements RevocationNotifier {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly channel: string;
  private subscriber?: RedisConnection;
  private listening = false;
  private closed = false;
  private readonly closeClient: boolean;

  constructor(
    private readonly client: RedisConnection,
    options: RedisRevocationNotifierOptions = {},
  ) {
    this.channel = options.channel ?? DEFAULTS.redisChannel;
    this.closeClient = options.closeClient ?? false;
  }

  async publish(sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.client.publish(this.channel, JSON.stringify(sessionIds));
  }

  async subscribe(listener: RevocationListener): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    const subscriber = this.client.duplicate();
    this.subscriber = subscriber;
    let lost = false;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const sessionIds = parseSessionIds(message);
      if (sessionIds) listener.revoked(sessionIds);
      else this.logger.warn(`Ignored a malformed message on ${this.channel}`);
    });
    subscriber.on('close', () => {
      if (this.listening) this.logger.warn('Lost the Redis subscription; checking sessions in the database');
      this.listening = false;
      lost = true;
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`Redis subscriber: ${error.message}`));
    subscriber.on('ready', () => {
      if (!lost || this.closed) return;
      lost = false;
      // Anything published while the subscription was down was missed: re-subscribe, then forget cached answers.
      this.listen(subscriber, listener);
    });
    // Subscribing connects a lazy client too. Not awaited: the app starts while Redis is away, and until the
    // subscription is up every check goes to the database.
    this.listen(subscriber, listener);
  }

  isListening(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    // Connections of the notifier's own: closed at once, whatever is queued (nothing queued is worth waiting for).
    this.subscriber?.disconnect();
    if (this.closeClient) this.client.disconnect();
  }

  private listen(subscriber: RedisConnection, listener: RevocationListener): void {
    subscriber.subscribe(this.channel).then(
      () => {
        listener.resync();
        this.listening = subscriber.status === 'ready' && !this.closed;
      },
      (error: Error) => this.logger.warn(`Could not subscribe to ${this.channel}: ${error.message}`),
    );
  }
}

function parseSessionIds(message: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(message);
    return Array.isArray(value) && value.every((id) => typeof id === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}
