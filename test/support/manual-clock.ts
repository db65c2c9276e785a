import type { Clock } from 'nestjs-device-tracker';

/** A `DeviceTrackerClock` that stands still until the test moves it, so waiting for an interval takes no time. */
export class ManualClock implements Clock {
  private time: number;

  constructor(start: Date = new Date()) {
    this.time = start.getTime();
  }

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  set(date: Date): void {
    this.time = date.getTime();
  }
}
