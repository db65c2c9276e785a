import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RevocationListener } from '../interfaces/revocation-notifier.interface.js';
import {
  type RedisConnection,
  REDIS_DOWN_REMINDER_INTERVAL,
  RedisRevocationNotifier,
} from './redis-revocation-notifier.js';

const REFUSED = 'connect ECONNREFUSED 127.0.0.1:6379';

/** An ioredis connection the test drives: it fails and comes back when told, and queues SUBSCRIBE until it is ready. */
class FakeConnection extends EventEmitter implements RedisConnection {
  status = 'connecting';
  readonly duplicates: FakeConnection[] = [];

  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  async publish(): Promise<number> {
    return 0;
  }

  subscribe(): Promise<unknown> {
    if (this.status === 'ready') return Promise.resolve(1);
    return new Promise((resolve) => this.once('ready', () => resolve(1)));
  }

  duplicate(): FakeConnection {
    const duplicate = new FakeConnection();
    this.duplicates.push(duplicate);
    return duplicate;
  }

  async quit(): Promise<string> {
    this.disconnect();
    return 'OK';
  }

  disconnect(): void {
    this.status = 'end';
    this.emit('close');
  }

  /** One failed connection attempt, as ioredis reports it. */
  refuse(): void {
    this.status = 'reconnecting';
    this.emit('error', new Error(REFUSED));
    this.emit('close');
  }

  connect(): void {
    this.status = 'ready';
    this.emit('ready');
  }
}

const listener = (): RevocationListener => ({ revoked: () => undefined, resync: () => undefined });

/** The lines the module's loggers wrote, by level. */
function logged() {
  const lines = { warn: [] as string[], log: [] as string[] };
  vi.spyOn(Logger.prototype, 'warn').mockImplementation((message) => void lines.warn.push(String(message)));
  vi.spyOn(Logger.prototype, 'log').mockImplementation((message) => void lines.log.push(String(message)));
  return lines;
}

/** The notifier over a client it owns (as the `redis: url` option makes it), subscribed, and its two connections. */
async function ownedNotifier() {
  const client = new FakeConnection();
  const notifier = new RedisRevocationNotifier(client, { closeClient: true });
  await notifier.subscribe(listener());
  return { notifier, client, subscriber: client.duplicates[0]! };
}

describe('RedisRevocationNotifier while Redis is unreachable', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-01T00:00:00Z') }));
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('warns once, with the reason, however often both connections report failing', async () => {
    const lines = logged();
    const { notifier, client, subscriber } = await ownedNotifier();

    // What ioredis does against a closed port: about two attempts a second on each connection, here for 7 s.
    for (let attempt = 0; attempt < 15; attempt++) {
      client.refuse();
      subscriber.refuse();
      vi.advanceTimersByTime(500);
    }

    expect(lines.warn).toEqual([
      `Cannot reach Redis (${REFUSED}): logouts are not shared with the other instances until it is back, and while ` +
        'the subscription is down every session check asks the database',
    ]);
    expect(notifier.isListening()).toBe(false);
  });

  it('reminds at most once a minute while it stays down', async () => {
    const lines = logged();
    const { client, subscriber } = await ownedNotifier();

    for (let elapsed = 0; elapsed <= 3 * REDIS_DOWN_REMINDER_INTERVAL; elapsed += 500) {
      client.refuse();
      subscriber.refuse();
      vi.advanceTimersByTime(500);
    }

    expect(lines.warn).toHaveLength(4); // at the start, then after one, two and three minutes
    expect(lines.warn.slice(1)).toEqual(
      Array(3).fill(
        `Redis still unreachable (${REFUSED}): logouts are not shared; sessions are checked in the database`,
      ),
    );
  });

  it('says once when both connections are back, listens again, and warns at once if Redis goes away again', async () => {
    const lines = logged();
    const { notifier, client, subscriber } = await ownedNotifier();
    client.refuse();
    subscriber.refuse();

    client.connect();
    expect(lines.log).toEqual([]); // the subscription is still down
    subscriber.connect();
    await vi.waitFor(() => expect(notifier.isListening()).toBe(true));
    expect(lines.log).toEqual(['Redis reachable again; logouts are shared again']);

    subscriber.refuse();
    expect(notifier.isListening()).toBe(false);
    expect(lines.warn).toHaveLength(2);
    expect(lines.warn[1]).toMatch(/^Cannot reach Redis \(connect ECONNREFUSED/);
  });

  it('reports a subscription lost while listening as Redis gone, once', async () => {
    const lines = logged();
    const { notifier, subscriber } = await ownedNotifier();
    subscriber.connect();
    await vi.waitFor(() => expect(notifier.isListening()).toBe(true));
    expect(lines.log).toEqual([]); // it never was down

    subscriber.emit('close');
    subscriber.refuse();
    subscriber.refuse();

    expect(notifier.isListening()).toBe(false);
    expect(lines.warn).toEqual([expect.stringMatching(/^Cannot reach Redis \(the subscription was lost\): /)]);
  });

  it("leaves the errors of the app's own client to the app, and logs nothing once closed", async () => {
    const lines = logged();
    const client = new FakeConnection();
    const notifier = new RedisRevocationNotifier(client);
    await notifier.subscribe(listener());
    expect(client.listenerCount('error')).toBe(0);

    await notifier.close();
    client.duplicates[0]!.refuse();
    expect(lines.warn).toEqual([]);
  });
});
