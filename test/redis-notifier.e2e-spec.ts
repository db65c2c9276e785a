import { Redis, type RedisOptions } from 'ioredis';
import { RedisRevocationNotifier, type RevocationListener } from 'nestjs-device-tracker';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { cutSubscriptions } from './support/redis-subscriptions.js';

const REDIS_URL = process.env.REDIS_URL;

/** A channel of the test's own, so nothing else on the same Redis disturbs it. */
const channel = () => `device-tracker-test:${process.pid}:${Math.random().toString(36).slice(2)}`;

function recorder() {
  const calls = { revoked: [] as string[][], resyncs: 0 };
  const listener: RevocationListener = {
    revoked: (ids) => calls.revoked.push(ids),
    resync: () => calls.resyncs++,
  };
  return { calls, listener };
}

// Needs Redis: `.ci/run` sets REDIS_URL; without it this suite is reported as skipped.
describe.runIf(Boolean(REDIS_URL))('RedisRevocationNotifier on a real Redis', () => {
  const opened: { close(): Promise<void> }[] = [];
  const clients: Redis[] = [];
  const client = (options: RedisOptions = {}) => {
    const redis = new Redis(REDIS_URL!, options);
    clients.push(redis);
    return redis;
  };
  const notifier = (redis: Redis, name: string) => {
    const created = new RedisRevocationNotifier(redis, { channel: name });
    opened.push(created);
    return created;
  };
  const subscribers = async (name: string) => Number((await client().pubsub('NUMSUB', name))[1]);

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((created) => created.close()));
    for (const redis of clients.splice(0)) redis.disconnect();
  });

  it('delivers what one instance publishes to every subscribed instance, itself included', async () => {
    const name = channel();
    const [a, b] = [notifier(client(), name), notifier(client(), name)];
    const [onA, onB] = [recorder(), recorder()];
    await a.subscribe(onA.listener);
    await b.subscribe(onB.listener);
    expect(await eventually(() => a.isListening() && b.isListening())).toBe(true);

    await a.publish(['session-1', 'session-2']);
    expect(await eventually(() => onB.calls.revoked.length === 1)).toBe(true);
    expect(onB.calls.revoked).toEqual([['session-1', 'session-2']]);
    expect(await eventually(() => onA.calls.revoked.length === 1)).toBe(true);
  });

  it('listens with a client that connects lazily', async () => {
    const lazy = notifier(client({ lazyConnect: true }), channel());
    await lazy.subscribe(recorder().listener);
    expect(await eventually(() => lazy.isListening())).toBe(true);
  });

  it('ignores malformed messages and keeps listening', async () => {
    const name = channel();
    const subscribed = notifier(client(), name);
    const { calls, listener } = recorder();
    await subscribed.subscribe(listener);
    expect(await eventually(() => subscribed.isListening())).toBe(true);

    const publisher = client();
    for (const message of ['not json', '{"a":1}', '[1,2]']) await publisher.publish(name, message);
    await subscribed.publish(['session-ok']);
    expect(await eventually(() => calls.revoked.length === 1)).toBe(true);
    expect(calls.revoked).toEqual([['session-ok']]);
  });

  it('stops listening when its connection drops, and resyncs once it is back', async () => {
    const name = channel();
    const connectionName = name.replaceAll(':', '-');
    const subscribed = notifier(client({ connectionName }), name);
    const { calls, listener } = recorder();
    await subscribed.subscribe(listener);
    expect(await eventually(() => subscribed.isListening())).toBe(true);
    const resyncsBefore = calls.resyncs;

    expect(await cutSubscriptions(client(), connectionName)).toBe(1);
    expect(await eventually(() => calls.resyncs > resyncsBefore && subscribed.isListening())).toBe(true);
    await subscribed.publish(['after-reconnect']);
    expect(await eventually(() => calls.revoked.some((ids) => ids[0] === 'after-reconnect'))).toBe(true);
  });

  it('keeps one subscription when subscribed twice, and none once closed', async () => {
    const name = channel();
    const twice = notifier(client(), name);
    await twice.subscribe(recorder().listener);
    await twice.subscribe(recorder().listener);
    expect(await eventually(async () => (await subscribers(name)) === 1)).toBe(true);

    await twice.close();
    expect(twice.isListening()).toBe(false);
    expect(await eventually(async () => (await subscribers(name)) === 0)).toBe(true);
  });
});
