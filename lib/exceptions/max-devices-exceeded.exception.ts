import { ForbiddenException } from '@nestjs/common';

/** Refuses a login from a new device when the user is at `maxDevices.limit` and the policy is `'reject'`. */
export class MaxDevicesExceededException extends ForbiddenException {
  constructor(readonly limit: number) {
    super(
      `Too many devices: this account may be signed in on at most ${limit} at once. Log out one of them, then sign in again.`,
    );
  }
}
