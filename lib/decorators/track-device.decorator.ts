import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { TRACK_DEVICE_METADATA } from '../device-tracker.constants.js';
import { TrackDeviceInterceptor } from '../interceptors/track-device.interceptor.js';
import type { TrackDeviceOptions } from '../interfaces/track-device-options.interface.js';

/**
 * Put on a login route: once the handler has succeeded, the device the request came from is recorded for the
 * authenticated user, with the refresh token found in the handler's result.
 */
export function TrackDevice(options: TrackDeviceOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(TRACK_DEVICE_METADATA, options), UseInterceptors(TrackDeviceInterceptor));
}
