import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { IP_ADDRESS_MAX_LENGTH } from '../device-tracker.constants.js';

/**
 * An IP address written by a person, in the form the module stores client addresses: IPv4 in dotted decimal,
 * IPv4-mapped IPv6 as plain IPv4, IPv6 compressed and in lower case (RFC 5952, as Node reports peers). `undefined`
 * when `text` is not an address; IPv4 shorthands such as `127.1` are not accepted.
 */
export function canonicalIpAddress(text: string): string | undefined {
  const version = isIP(text);
  // Node takes IPv4 in dotted decimal only, without leading zeros: already the canonical form.
  if (version === 4) return text;
  if (version === 0 || text.length > IP_ADDRESS_MAX_LENGTH) return undefined;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(text);
  } catch {
    // Node accepts some zone ids (`fe80::1%a.b`) that ipaddr.js does not: not an address the module can store.
    return undefined;
  }
  if (address.kind() === 'ipv6') {
    const ipv6 = address as ipaddr.IPv6;
    if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  }
  return address.toString();
}

/** How much of a client's IP address the module keeps. */
export type IpAddressStorage = 'full' | 'truncated' | 'none';

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
