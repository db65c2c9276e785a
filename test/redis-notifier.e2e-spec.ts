import { createServer } from 'node:net';
import { type INestApplication, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis, type RedisOptions } from 'ioredis';
import {
  DeviceTrackerModule,
  RedisRevocationNotifier,
  RevocationNotifier,
  type RevocationListener,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { eventually } from './support/eventually.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';
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

  it('stops listening when its connection drops, and resyncs once it is back, saying so once each way', async () => {
    const name = channel();
    const connectionName = name.replaceAll(':', '-');
    const subscribed = notifier(client({ connectionName }), name);
    const { calls, listener } = recorder();
    await subscribed.subscribe(listener);
    expect(await eventually(() => subscribed.isListening())).toBe(true);
    const resyncsBefore = calls.resyncs;
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);

    try {
      expect(await cutSubscriptions(client(), connectionName)).toBe(1);
      expect(await eventually(() => calls.resyncs > resyncsBefore && subscribed.isListening())).toBe(true);
      expect(warn.mock.calls).toEqual([[expect.stringMatching(/^Cannot reach Redis \(the subscription was lost\): /)]]);
      expect(log.mock.calls).toEqual([['Redis reachable again; logouts are shared again']]);
    } finally {
      vi.restoreAllMocks();
    }
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

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Needs no Redis: what an app with `redis: <url>` logs while nothing answers at that URL.
describe('the redis option while Redis is unreachable', () => {
  const logs = new LogCollector();
  let app: INestApplication;
  let refusals = 0;
  let port: number;

  beforeAll(async () => {
    // Each failed attempt of each connection, counted where ioredis reports it: the test waits for attempts, not time.
    const emit = Redis.prototype.emit;
    vi.spyOn(Redis.prototype, 'emit').mockImplementation(function (this: Redis, event, ...args) {
      if (event === 'error') refusals++;
      return emit.call(this, event, ...args);
    });
    port = await closedPort();
    const redis = `redis://127.0.0.1:${port}`;
    // The logger from the start: the notifier connects while the module is built.
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ redis }))],
    })
      .setLogger(logs)
      .compile();
    app = await startTestApp(moduleRef, { logger: logs });
  });
  afterAll(async () => {
    await app?.close();
    vi.restoreAllMocks();
  });

  it('warns once, with the reason, however many attempts fail, and checks every session in the database', async () => {
    expect(await eventually(() => refusals >= 12, { timeoutMs: 15_000 })).toBe(true);

    expect(logs.lines.warn.filter((line) => line.includes('Redis'))).toEqual([
      `[DeviceTracker] Cannot reach Redis (connect ECONNREFUSED 127.0.0.1:${port}): logouts are not shared with the ` +
        'other instances until it is back, and while the subscription is down every session check asks the database',
    ]);
    expect(app.get<RevocationNotifier>(RevocationNotifier).isListening()).toBe(false);
    const { body } = await request(app.getHttpServer()).post('/login').send({ userId: 'alice' }).expect(200);
    await request(app.getHttpServer()).get('/devices').auth(body.access_token, { type: 'bearer' }).expect(200);
  });
});
