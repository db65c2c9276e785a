import { SetMetadata } from '@nestjs/common';
import { TRACK_DEVICE_METADATA } from '../device-tracker.constants.js';
import type { TrackDeviceOptions } from '../interfaces/track-device-options.interface.js';

/**
 * Put on a login route (or a controller): once the handler has succeeded, the device the request came from is
 * recorded for the authenticated user, with the refresh token found in the handler's result. The module's
 * interceptor, registered app-wide, acts on routes marked with this decorator only.
 */
export const TrackDevice = (options: TrackDeviceOptions = {}): MethodDecorator & ClassDecorator =>
  SetMetadata(TRACK_DEVICE_METADATA, options);
