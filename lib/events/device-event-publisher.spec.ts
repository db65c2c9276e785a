import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { beforeEach, describe, expect, it } from 'vitest';
import { LogCollector } from '../../test/support/log-collector.js';
import { DeviceEventPublisher } from './device-event-publisher.js';
import { DeviceTrackerEvents } from './device-tracker.events.js';

const CREATED = DeviceTrackerEvents.DEVICE_CREATED;
const payload = { device: { id: 'laptop' } };

/** Lets what `async` listeners deferred (to setImmediate) run, with the microtasks they leave. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

type Setup = (emitter: EventEmitter2, record: (who: string) => (...args: unknown[]) => void) => void;

/** Who was called, with what `this.event` and which arguments, by `emit` (twice), now and once deferred work ran. */
async function deliveries(setup: Setup, emit: (emitter: EventEmitter2) => void, emitter = new EventEmitter2()) {
  const seen: unknown[][] = [];
  setup(
    emitter,
    (who) =>
      function (this: { event: unknown }, ...args: unknown[]) {
        seen.push([who, this.event, ...args]);
      },
  );
  emit(emitter);
  emit(emitter);
  const synchronous = [...seen];
  await nextTurn();
  return { synchronous, all: seen };
}

/** The same deliveries through EventEmitter2.emit and through the publisher. */
async function compare(setup: Setup, options?: ConstructorParameters<typeof EventEmitter2>[0]) {
  const direct = await deliveries(setup, (emitter) => emitter.emit(CREATED, payload), new EventEmitter2(options));
  const published = await deliveries(
    setup,
    (emitter) => new DeviceEventPublisher(emitter).emit(CREATED, payload),
    new EventEmitter2(options),
  );
  return { direct, published };
}

describe('DeviceEventPublisher', () => {
  let logs: LogCollector;

  beforeEach(() => {
    logs = new LogCollector();
    // Each spec file runs in its own module context, so the override does not leak to other files.
    Logger.overrideLogger(logs);
  });

  it('calls the listeners EventEmitter2.emit calls, in its order, with its arguments and this.event', async () => {
    const { direct, published } = await compare((emitter, record) => {
      emitter.on(CREATED, record('on'));
      emitter.onAny(record('any'));
      emitter.on(CREATED, record('async'), { async: true });
      emitter.prependListener(CREATED, record('prepended'));
      emitter.once(CREATED, record('once'));
      emitter.many(CREATED, 2, record('many'));
      emitter.on(CREATED, record('promisify'), { promisify: true });
      emitter.prependAny(record('prepended any'));
      // eventemitter2 never removes a `once` listener that is also `async`: the publisher behaves the same.
      emitter.once(CREATED, record('once async'), { async: true });
      emitter.on(DeviceTrackerEvents.DEVICE_LOGGED_OUT, record('other event'));
    });

    expect(published).toEqual(direct);
    expect(direct.synchronous.map(([who]) => who)).toEqual(
      ['prepended any', 'any', 'prepended', 'on', 'once', 'many'].concat([
        'prepended any',
        'any',
        'prepended',
        'on',
        'many',
      ]),
    );
    expect(direct.all.slice(direct.synchronous.length).map(([who]) => who)).toEqual(
      ['async', 'promisify', 'once async'].concat(['async', 'promisify', 'once async']),
    );
  });

  it('calls the listeners of matching patterns on a wildcard emitter, as emit does', async () => {
    const { direct, published } = await compare(
      (emitter, record) => {
        emitter.on('device-tracker.**', record('all of the module'));
        emitter.on('device-tracker.device.*', record('device events'));
        emitter.on(CREATED, record('exact'));
        emitter.on('device-tracker.refresh-token.*', record('other'));
      },
      { wildcard: true },
    );

    expect(published).toEqual(direct);
    expect(direct.all.map(([who, event]) => [who, event]).slice(0, 3)).toEqual([
      ['exact', CREATED],
      ['device events', CREATED],
      ['all of the module', CREATED],
    ]);
  });

  it('logs each failing listener at warn, naming the event, and still calls the others', async () => {
    const emitter = new EventEmitter2();
    const called: string[] = [];
    emitter.onAny(() => {
      called.push('any');
      throw new Error('any broke');
    });
    emitter.on(CREATED, () => {
      called.push('throws');
      throw new Error('threw');
    });
    emitter.on(CREATED, async () => {
      called.push('rejects');
      throw new Error('rejected');
    });
    emitter.on(CREATED, () => Promise.reject('not an Error'));
    emitter.on(
      CREATED,
      () => {
        called.push('async throws');
        throw new Error('threw later');
      },
      { async: true },
    );
    emitter.on(CREATED, () => Promise.reject(new Error('rejected later')), { promisify: true });
    emitter.on(
      CREATED,
      () => {
        called.push('nextTick throws');
        throw new Error('threw on a tick');
      },
      { nextTick: true },
    );
    emitter.on(CREATED, () => called.push('last'));

    new DeviceEventPublisher(emitter).emit(CREATED, payload);
    expect(called).toEqual(['any', 'throws', 'rejects', 'last']);
    await nextTurn();

    expect(called).toEqual(['any', 'throws', 'rejects', 'last', 'async throws', 'nextTick throws']);
    expect(logs.lines.warn.toSorted()).toEqual(
      ['any broke', 'threw', 'rejected', 'not an Error', 'threw later', 'rejected later', 'threw on a tick']
        .map((message) => `[DeviceTracker] A listener of ${CREATED} failed: ${message}`)
        .toSorted(),
    );
    expect(logs.lines.error).toEqual([]);
  });

  it('does not wait for a listener that never settles', () => {
    const emitter = new EventEmitter2();
    const called: string[] = [];
    emitter.on(CREATED, () => new Promise(() => called.push('slow')));
    emitter.on(CREATED, () => called.push('next'));

    new DeviceEventPublisher(emitter).emit(CREATED, payload);

    expect(called).toEqual(['slow', 'next']);
  });

  it('does nothing without an emitter', () => {
    expect(() => new DeviceEventPublisher(null).emit(CREATED, payload)).not.toThrow();
    expect(logs.all()).toEqual([]);
  });
});
