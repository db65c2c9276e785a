import { Injectable, type INestApplication, Scope, type Type } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent, type OnEventOptions } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { Device, DeviceTrackerEvents, DeviceTrackerModule } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { eventually } from './support/eventually.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';
import { sidOf } from './support/token-claims.js';

const CREATED = DeviceTrackerEvents.DEVICE_CREATED;
const BROKEN = 'the audit store is down';
const warning = `[DeviceTracker] A listener of ${CREATED} failed: ${BROKEN}`;
/** What @nestjs/event-emitter logs itself when `suppressErrors` is on (its default): the error never reaches us. */
const nestError = `[Event] ${BROKEN}`;

/** Who got DEVICE_CREATED, in the order they were called. */
let calls: string[] = [];

/** Fails on its first line (`throws`), or after an `await` (`rejects`), as a listener can. */
function fail(how: 'throws' | 'rejects'): void | Promise<void> {
  calls.push('failing');
  if (how === 'throws') throw new Error(BROKEN);
  return Promise.resolve().then(() => {
    throw new Error(BROKEN);
  });
}

@Injectable()
class FirstListener {
  @OnEvent(CREATED)
  onCreated() {
    calls.push('first');
  }
}

@Injectable()
class NextListener {
  @OnEvent(CREATED)
  onCreated() {
    calls.push('next');
  }
}

/** A host provider whose `@OnEvent(DEVICE_CREATED, options)` method fails `how`. */
function failingProvider(how: 'throws' | 'rejects', options: OnEventOptions, scope = Scope.DEFAULT): Type {
  @Injectable({ scope })
  class FailingListener {
    @OnEvent(CREATED, options)
    onCreated() {
      return fail(how);
    }
  }
  return FailingListener;
}

interface Case {
  name: string;
  /** A provider registered between FirstListener and NextListener, or a listener put on EventEmitter2 directly. */
  failing: { provider: Type } | { plain: () => unknown; options?: OnEventOptions };
  /** `calls` once everything has run: a deferred listener (`async`, request scope) runs after the synchronous ones. */
  order: string[];
  /** The line that reports the failure. */
  logged: string;
}

const inOrder = ['first', 'failing', 'next', 'last'];
const deferred = ['first', 'next', 'last', 'failing'];
const plainOrder = ['first', 'next', 'failing', 'last'];

const cases: Case[] = [
  {
    name: '@OnEvent, suppressErrors: false, throws',
    failing: { provider: failingProvider('throws', { suppressErrors: false }) },
    order: inOrder,
    logged: warning,
  },
  {
    name: '@OnEvent, suppressErrors: false, rejects',
    failing: { provider: failingProvider('rejects', { suppressErrors: false }) },
    order: inOrder,
    logged: warning,
  },
  {
    name: '@OnEvent (suppressErrors: true by default), throws',
    failing: { provider: failingProvider('throws', {}) },
    order: inOrder,
    logged: nestError,
  },
  {
    name: '@OnEvent, suppressErrors: true, rejects',
    failing: { provider: failingProvider('rejects', { suppressErrors: true }) },
    order: inOrder,
    logged: nestError,
  },
  {
    name: '@OnEvent, async: true, suppressErrors: false, throws',
    failing: { provider: failingProvider('throws', { async: true, suppressErrors: false }) },
    order: deferred,
    logged: warning,
  },
  {
    name: '@OnEvent, async: true, suppressErrors: false, rejects',
    failing: { provider: failingProvider('rejects', { async: true, suppressErrors: false }) },
    order: deferred,
    logged: warning,
  },
  {
    name: '@OnEvent, async: true (suppressErrors: true by default), throws',
    failing: { provider: failingProvider('throws', { async: true }) },
    order: deferred,
    logged: nestError,
  },
  {
    name: '@OnEvent, async: true, suppressErrors: true, rejects',
    failing: { provider: failingProvider('rejects', { async: true, suppressErrors: true }) },
    order: deferred,
    logged: nestError,
  },
  {
    name: '@OnEvent on a request-scoped provider, suppressErrors: false, rejects',
    failing: { provider: failingProvider('rejects', { suppressErrors: false }, Scope.REQUEST) },
    order: deferred,
    logged: warning,
  },
  {
    name: '@OnEvent on a request-scoped provider, async: true, suppressErrors: false, throws',
    failing: { provider: failingProvider('throws', { async: true, suppressErrors: false }, Scope.REQUEST) },
    order: deferred,
    logged: warning,
  },
  {
    name: 'EventEmitter2.on, throws',
    failing: { plain: () => fail('throws') },
    order: plainOrder,
    logged: warning,
  },
  {
    name: 'EventEmitter2.on, async listener rejects',
    failing: { plain: async () => fail('rejects') },
    order: plainOrder,
    logged: warning,
  },
  {
    name: 'EventEmitter2.on with { async: true }, throws',
    failing: { plain: () => fail('throws'), options: { async: true } },
    order: ['first', 'next', 'last', 'failing'],
    logged: warning,
  },
  {
    name: 'EventEmitter2.on with { promisify: true }, rejects',
    failing: { plain: () => fail('rejects'), options: { promisify: true } },
    order: ['first', 'next', 'last', 'failing'],
    logged: warning,
  },
];

describe(`a failing event listener (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  /** Whatever reached the process's last-resort handlers while a test ran: must stay empty. */
  let escaped: string[];
  const onRejection = (reason: unknown) => escaped.push(`unhandledRejection: ${String(reason)}`);
  const onException = (error: Error) => escaped.push(`uncaughtException: ${String(error)}`);

  beforeEach(() => {
    calls = [];
    escaped = [];
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });

  afterEach(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await app?.close();
    app = undefined;
  });

  // A loop rather than it.each, whose `$name` is cut at 40 characters: the names would not tell the cases apart.
  for (const { name, failing, order, logged } of cases) {
    it(`${name}: is logged, the login answers 200 and tracks the device, the others get the event`, async () => {
      const logger = new LogCollector();
      const providers =
        'provider' in failing ? [FirstListener, failing.provider, NextListener] : [FirstListener, NextListener];
      const moduleRef = await Test.createTestingModule({
        imports: [EventEmitterModule.forRoot(), HostAppModule.with(DeviceTrackerModule.forRoot())],
        providers,
      }).compile();
      app = await startTestApp(moduleRef, { logger });
      const emitter = app.get(EventEmitter2);
      if ('plain' in failing) emitter.on(CREATED, failing.plain, failing.options);
      emitter.on(CREATED, () => calls.push('last'));

      const response = await request(app.getHttpServer()).post('/login').send({ userId: 'alice' }).expect(200);

      const deviceId = response.headers['x-device-id'];
      expect(await app.get(DataSource).getRepository(Device).findOneBy({ id: deviceId })).toMatchObject({
        userId: 'alice',
        isActive: true,
      });
      // A deferred listener fails after the answer: wait for its report, or for what escaped instead.
      expect(await eventually(() => logger.all().includes(logged) || escaped.length > 0)).toBe(true);
      // A rejection nobody handles is reported once the microtasks have run: give it that turn.
      await new Promise((resolve) => setImmediate(resolve));

      expect(escaped).toEqual([]);
      expect(calls).toEqual(order);
      expect(logger.all().filter((line) => line === logged)).toHaveLength(1);
      expect(logger.lines.error.filter((line) => line.startsWith('[DeviceTracker]'))).toEqual([]);
      const sid = sidOf(response.body.access_token);
      for (const line of logger.all()) {
        for (const secret of [response.body.access_token, response.body.refresh_token, sid]) {
          expect(line).not.toContain(secret);
        }
      }
    });
  }

  it('logs every failing listener, each once, and still calls the ones after them', async () => {
    const logger = new LogCollector();
    const moduleRef = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), HostAppModule.with(DeviceTrackerModule.forRoot())],
      providers: [
        FirstListener,
        failingProvider('throws', { suppressErrors: false }),
        failingProvider('rejects', { async: true, suppressErrors: false }),
        NextListener,
      ],
    }).compile();
    app = await startTestApp(moduleRef, { logger });
    const emitter = app.get(EventEmitter2);
    emitter.on(CREATED, () => fail('throws'));
    emitter.on(CREATED, () => calls.push('last'));

    await request(app.getHttpServer()).post('/login').send({ userId: 'alice' }).expect(200);

    const warned = () => logger.lines.warn.filter((line) => line === warning);
    expect(await eventually(() => warned().length >= 3 || escaped.length > 0)).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(escaped).toEqual([]);
    expect(warned()).toHaveLength(3);
    expect(calls).toEqual(['first', 'failing', 'next', 'failing', 'last', 'failing']);
  });
});
