import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { DEVICE_EVENT_EMITTER, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { DeviceTrackerEvents } from './device-tracker.events.js';

/** The one call made on `EventEmitter2`. */
export interface EventEmitterLike {
  emit(event: string, payload: unknown): unknown;
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

/** Emits the module's events when the host listens for them; a failing listener never fails the request. */
@Injectable()
export class DeviceEventPublisher {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(@Inject(DEVICE_EVENT_EMITTER) private readonly emitter: EventEmitterLike | null) {}

  emit(event: EventName, payload: object): void {
    try {
      this.emitter?.emit(event, payload);
    } catch (error) {
      this.logger.warn(`A listener of ${event} failed: ${(error as Error).message}`);
    }
  }
}
