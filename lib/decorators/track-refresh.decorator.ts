import { SetMetadata } from '@nestjs/common';
import { TRACK_REFRESH_METADATA } from '../device-tracker.constants.js';
import type { TrackRefreshOptions } from '../interfaces/track-refresh-options.interface.js';

/**
 * Put on the refresh route: before the handler, the refresh token presented (`refresh_token` in the body) must be
 * one of an active device's, and `@CurrentDevice()` is that device's session (spread `device.claims` into the new
 * tokens); once the handler has succeeded, the device rotates to the refresh token it returned. A token presented
 * again after it was replaced logs its device out (RFC 9700 reuse detection). Verify the token's signature in the
 * handler, as before: the module only tracks it.
 */
export const TrackRefresh = (options: TrackRefreshOptions = {}): MethodDecorator & ClassDecorator =>
  SetMetadata(TRACK_REFRESH_METADATA, options);
