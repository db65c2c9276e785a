import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';
import { DEFAULTS } from '../device-tracker.defaults.js';
import { type Clock, systemClock } from '../interfaces/clock.interface.js';
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
  /**
   * A client made for the notifier alone: it also reports the client's connection errors, and closes the client when
   * the module stops. Default: `false` (your client, whose errors your code handles, is left open).
   */
  closeClient?: boolean;
}

/** While Redis stays unreachable, the warning is repeated at most this often (ms). */
export const REDIS_DOWN_REMINDER_INTERVAL = 60_000;

/**
 * Tells the operator when Redis becomes unreachable, once, with the reason; again at most once a minute while it stays
 * so; and once when every connection is back. ioredis retries every few hundred milliseconds and reports each failed
 * attempt on each connection, which would otherwise be several warnings a second.
 */
class ConnectionReport {
  /** The connections (`client`, `subscriber`) failing right now. */
  private readonly down = new Set<string>();
  private warnedAt = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  failed(connection: string, reason: string): void {
    const wasUp = this.down.size === 0;
    this.down.add(connection);
    const now = this.clock.now();
    if (wasUp) {
      this.logger.warn(
        `Cannot reach Redis (${reason}): logouts are not shared with the other instances until it is back, and ` +
          'while the subscription is down every session check asks the database',
      );
    } else if (now - this.warnedAt >= REDIS_DOWN_REMINDER_INTERVAL) {
      this.logger.warn(
        `Redis still unreachable (${reason}): logouts are not shared; sessions are checked in the database`,
      );
    } else {
      return;
    }
    this.warnedAt = now;
  }

  recovered(connection: string): void {
    if (this.down.delete(connection) && this.down.size === 0) {
      this.logger.log('Redis reachable again; logouts are shared again');
    }
  }
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
  private readonly report = new ConnectionReport(this.logger, systemClock);
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
    if (this.closeClient) {
      // ioredis retries on its own; an error event without a listener would only be printed.
      client.on('error', (error: Error) => this.failed('client', error.message));
      client.on('ready', () => this.report.recovered('client'));
    }
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
      if (this.listening) this.failed('subscriber', 'the subscription was lost');
      this.listening = false;
      lost = true;
    });
    subscriber.on('error', (error: Error) => this.failed('subscriber', error.message));
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
        if (this.listening) this.report.recovered('subscriber');
      },
      (error: Error) => this.failed('subscriber', `could not subscribe to ${this.channel}: ${error.message}`),
    );
  }

  /** A connection failed: reported unless the notifier is closing (closing its connections makes them fail). */
  private failed(connection: 'client' | 'subscriber', reason: string): void {
    if (!this.closed) this.report.failed(connection, reason);
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
