import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { DEVICE_EVENT_EMITTER, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { DeviceTrackerEvents } from './device-tracker.events.js';

/** A listener as `EventEmitter2` stores it. */
export type StoredListener = ((...args: unknown[]) => unknown) & {
  /** Set by eventemitter2 when the listener was registered with `async`, `nextTick` or `promisify`: it defers. */
  _async?: boolean;
  /** The function that wrapper defers. The `async` and `nextTick` wrappers drop what it returns, rejections included. */
  _origin?: (...args: unknown[]) => unknown;
};

/** What the publisher reads of `EventEmitter2`: the listeners, which it calls itself (see `DeviceEventPublisher`). */
export interface EventEmitterLike {
  /** The event being delivered: eventemitter2 sets it before each call, for listeners that read `this.event`. */
  event?: unknown;
  /** The `onAny` listeners, called first, with the event name then the payload. */
  listenersAny(): StoredListener[];
  /** The listeners of `event`, in the order `emit` calls them (wildcard patterns included). */
  listeners(event: string): StoredListener[];
}

type EventName = (typeof DeviceTrackerEvents)[keyof typeof DeviceTrackerEvents];

/**
 * The host's `EventEmitter2`, or `null` when `@nestjs/event-emitter` is not installed or `EventEmitterModule` not
 * imported. Imported lazily because it is an optional peer dependency.
 */
export async function findEventEmitter(moduleRef: ModuleRef): Promise<EventEmitterLike | null> {
  try {
    const { EventEmitter2 } = await import('@nestjs/event-emitter');
    return moduleRef.get(EventEmitter2, { strict: false });
  } catch {
    return null;
  }
}

/**
 * Emits the module's events when the host listens for them; a failing listener never fails the request, nor the
 * process, nor the listeners after it.
 *
 * It calls each listener itself, in the order `EventEmitter2.emit` would, because `emit` cannot keep that promise:
 * it ignores what listeners return, so a rejected promise is left unhandled (every `@OnEvent` listener returns one,
 * and it rejects with `suppressErrors: false`), a synchronous throw skips the listeners after it, and the wrappers
 * of `async` listeners drop the result on a later tick, where no caller can catch it.
 */
@Injectable()
export class DeviceEventPublisher {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(@Inject(DEVICE_EVENT_EMITTER) private readonly emitter: EventEmitterLike | null) {}

  /** Delivers `event`; `payload` may be a function that makes it, called only when someone listens. */
  emit(event: EventName, payload: object | (() => object)): void {
    const emitter = this.emitter;
    if (!emitter) return;
    // Copies, as emit makes: a `once` listener removes itself from the array being walked.
    const anyListeners = emitter.listenersAny().slice();
    const listeners = emitter.listeners(event).slice();
    if (anyListeners.length === 0 && listeners.length === 0) return;
    if (typeof payload === 'function') payload = payload();
    for (const listener of anyListeners) this.call(emitter, event, listener, [event, payload]);
    for (const listener of listeners) {
      // eslint-disable-next-line no-underscore-dangle -- eventemitter2's names for its deferring wrappers
      const origin = listener._async ? listener._origin : undefined;
      // Deferred as `async` asks (`nextTick` too: the wrapper does not say which), to a function whose failure we
      // can still see; never awaited.
      if (origin) setImmediate(() => this.call(emitter, event, origin, [payload]));
      else this.call(emitter, event, listener, [payload]);
    }
  }

  private call(
    emitter: EventEmitterLike,
    event: EventName,
    listener: (...args: unknown[]) => unknown,
    args: unknown[],
  ): void {
    try {
      emitter.event = event;
      const result = listener.apply(emitter, args);
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.warn(event, error));
    } catch (error) {
      this.warn(event, error);
    }
  }

  private warn(event: EventName, error: unknown): void {
    // The listener's own message only: the payload, which never holds a token or session id, is not logged.
    this.logger.warn(`A listener of ${event} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
