import { Injectable } from '@nestjs/common';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { DeviceSessionGuard } from './device-session.guard.js';

/**
 * `DeviceSessionGuard` on the module's own endpoints. A token without a session claim is still the user's: unless the
 * host set `withoutSession` or `sessionCheck: 'app'`, the user's devices are listed and logged out (the current device
 * is the one the request presents), and a warning names the edit that makes those logouts end the device's access
 * tokens at once.
 */
@Injectable()
export class OwnEndpointsSessionGuard extends DeviceSessionGuard {
  /** Once per app (one guard serves all its endpoints): the app works without the claim; one line says the fix. */
  private warned = false;

  protected override handleMissingSession(request: DeviceRequest): boolean {
    // An app that asks for the check everywhere (sessionCheck: 'app') asks for it here too.
    if (this.options.ownEndpointsWithoutSession === 'deny' || this.options.sessionCheck === 'app') {
      return super.handleMissingSession(request);
    }
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        `Tokens carry no device session (${this.options.sessionClaim} claim), so a logged-out device keeps its ` +
          'access tokens until they expire: spread `...device.claims` from @CurrentDevice() into the tokens your ' +
          '@TrackDevice() login signs to refuse them at once',
      );
    }
    return true;
  }
}
