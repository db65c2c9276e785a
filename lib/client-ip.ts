import { isIP } from 'node:net';
import { IP_ADDRESS_MAX_LENGTH } from './device-tracker.constants.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';

/**
 * The client's IP address as the platform resolved it. `request.ip` honours Express's `trust proxy` and Fastify's
 * `trustProxy`, so `X-Forwarded-For` counts only when the app trusts the proxy that set it; the raw header is never
 * read here. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are stored as plain IPv4.
 */
export function clientIp(request: DeviceRequest): string | null {
  const address = request.ip ?? request.socket?.remoteAddress;
  if (!address) return null;
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
  if (mapped && isIP(mapped) === 4) return mapped;
  // A zone id (`fe80::1%eth0`) can make a valid IPv6 address longer than any stored one.
  return isIP(address) && address.length <= IP_ADDRESS_MAX_LENGTH ? address : null;
}
