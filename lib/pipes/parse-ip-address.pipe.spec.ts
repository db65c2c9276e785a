import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ParseIpAddressPipe } from './parse-ip-address.pipe.js';

describe('ParseIpAddressPipe', () => {
  const pipe = new ParseIpAddressPipe('ip', { optional: true });

  it('gives the address in the form it is stored in', () => {
    expect(pipe.transform('198.51.100.4')).toBe('198.51.100.4');
    expect(pipe.transform('2001:DB8:0::7')).toBe('2001:db8::7');
    expect(pipe.transform('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(pipe.transform(undefined)).toBeUndefined();
  });

  it.each(['', 'example.com', '198.51.100', '198.51.100.0/24', ['198.51.100.4', '198.51.100.5']])(
    'refuses %j with a message naming the parameter',
    (value) => {
      expect(() => pipe.transform(value)).toThrow(new BadRequestException('ip must be an IPv4 or IPv6 address'));
    },
  );
});
