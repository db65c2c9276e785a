import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { recordedIp } from './client-ip.js';
import { presentedDeviceId } from './device-id.js';
import { requestSessionId } from './request-session.js';

/** What the module needs to know of the client behind a request: read once, at the HTTP edge. */
export interface ClientInfo {
  /** The device id the client presents (header, then cookie), when it is a UUID. */
  presentedDeviceId?: string;
  /** The request's own session id, when the app tracks devices by their sessions (`sessionStore`). */
  requestSessionId?: string;
  /** The client's IP address, as `storeIpAddress` keeps it. */
  ipAddress: string | null;
  /** The `User-Agent` header as sent. */
  userAgent?: string;
}

export function readClientInfo(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): ClientInfo {
  const header = request.headers['user-agent'];
  return {
    presentedDeviceId: presentedDeviceId(request, options),
    requestSessionId: requestSessionId(request, options),
    ipAddress: recordedIp(request, options.storeIpAddress),
    userAgent: Array.isArray(header) ? header[0] : header,
  };
}
