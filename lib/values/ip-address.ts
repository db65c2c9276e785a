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
