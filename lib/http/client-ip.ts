import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { canonicalIpAddress, type IpAddressStorage, storedIp } from '../values/ip-address.js';

/**
 * The client's IP address as the platform resolved it, in canonical form (see `canonicalIpAddress`), so a search
 * finds it however a proxy wrote it. `request.ip` honours Express's `trust proxy` and Fastify's `trustProxy`, so
 * `X-Forwarded-For` counts only when the app trusts the proxy that set it; the raw header is never read here.
 */
export function clientIp(request: DeviceRequest): string | null {
  const address = request.ip ?? request.socket?.remoteAddress;
  return (address && canonicalIpAddress(address)) || null;
}

/** The client's IP address of `request`, as the configured `storeIpAddress` keeps it. */
export function recordedIp(request: DeviceRequest, storage: IpAddressStorage): string | null {
  return storedIp(clientIp(request), storage);
}
