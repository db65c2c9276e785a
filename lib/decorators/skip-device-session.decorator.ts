import { SetMetadata } from '@nestjs/common';
import { SKIP_DEVICE_SESSION_METADATA } from '../device-tracker.constants.js';

/**
 * Exempts a route or controller from `DeviceSessionGuard` when the guard is applied more widely (globally or to
 * the controller), e.g. a logout route that must work with a token whose device is already logged out.
 */
export const SkipDeviceSession = (skip = true) => SetMetadata(SKIP_DEVICE_SESSION_METADATA, skip);
