import ipaddr from 'ipaddr.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { canonicalIpAddress } from '../values/ip-address.js';

/** How much of a client's IP address the module keeps. */
export type IpAddressStorage = 'full' | 'truncated' | 'none';

/**
 * The client's IP address as the platform resolved it, in canonical form (see `canonicalIpAddress`), so a search
 * finds it however a proxy wrote it. `request.ip` honours Express's `trust proxy` and Fastify's `trustProxy`, so
 * `X-Forwarded-For` counts only when the app trusts the proxy that set it; the raw header is never read here.
 */
export function clientIp(request: DeviceRequest): string | null {
  const address = request.ip ?? request.socket?.remoteAddress;
  return (address && canonicalIpAddress(address)) || null;
}

/** Bytes kept by `'truncated'`: a /24 network for IPv4, a /48 for IPv6, the usual anonymisation prefixes. */
const KEPT_BYTES = { ipv4: 3, ipv6: 6 } as const;

/**
 * `address` as the module stores it: whole, cut to its network (`192.0.2.0`, `2001:db8:abcd::`), or not at all,
 * for apps that must keep as little personal data as they can.
 */
export function storedIp(address: string | null, storage: IpAddressStorage): string | null {
  if (address === null || storage === 'none') return null;
  if (storage === 'full') return address;
  // A zone id (`fe80::1%eth0`) names a local interface: not part of the network, and ipaddr.js rejects some.
  const parsed = ipaddr.parse(address.split('%')[0]!);
  const bytes = parsed.toByteArray().map((byte, index) => (index < KEPT_BYTES[parsed.kind()] ? byte : 0));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The client's IP address of `request`, as the configured `storeIpAddress` keeps it. */
export function recordedIp(request: DeviceRequest, storage: IpAddressStorage): string | null {
  return storedIp(clientIp(request), storage);
}
