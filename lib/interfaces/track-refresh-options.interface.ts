import type { DeviceRequest } from './device-request.interface.js';

/** Per-route options of `@TrackRefresh()`. */
export interface TrackRefreshOptions {
  /**
   * Finds the refresh token the client presents. Default: `request.body.refresh_token ?? request.body.refreshToken`.
   */
  getPresentedToken?: (request: DeviceRequest) => string | undefined | null;
  /**
   * Finds the new refresh token in the handler's result. Default: the module's `getRefreshToken`
   * (`result.refresh_token ?? result.refreshToken`).
   */
  getRefreshToken?: (result: unknown) => string | undefined | null;
}
