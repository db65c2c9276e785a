import { describe, expect, it } from 'vitest';
import { canonicalIpAddress } from './ip-address.js';

describe('canonicalIpAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000::0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::1', '::1'],
    ['::ffff:192.0.2.10', '192.0.2.10'],
    ['::FFFF:192.0.2.10', '192.0.2.10'],
    ['::ffff:c000:20a', '192.0.2.10'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
  ])('writes %j as %j, the form addresses are stored in', (text, canonical) => {
    expect(canonicalIpAddress(text)).toBe(canonical);
  });

  it.each(['', 'localhost', '127.1', '0x7f.0.0.1', '256.1.1.1', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4/24', '2001:db8::g'])(
    'refuses %j',
    (text) => {
      expect(canonicalIpAddress(text)).toBeUndefined();
    },
  );

  it('refuses zone ids that Node accepts but ipaddr.js cannot read, rather than throwing', () => {
    for (const text of ['fe80::1%a.b', 'fe80::1%a:b', 'fe80::1%-']) expect(canonicalIpAddress(text)).toBeUndefined();
  });

  it('refuses an address longer than any stored one (a long zone id)', () => {
    expect(canonicalIpAddress(`fe80::1%${'e'.repeat(60)}`)).toBeUndefined();
  });
});
