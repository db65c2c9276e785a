import { describe, expect, it } from 'vitest';
import { storedIp } from '../values/ip-address.js';
import { clientIp, recordedIp } from './client-ip.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

function request(parts: Partial<DeviceRequest> = {}): DeviceRequest {
  return { headers: {}, ...parts };
}

describe('clientIp', () => {
  it('returns request.ip when set', () => {
    expect(clientIp(request({ ip: '203.0.113.7' }))).toBe('203.0.113.7');
  });

  it('prefers request.ip over the socket address', () => {
    expect(clientIp(request({ ip: '203.0.113.7', socket: { remoteAddress: '10.0.0.1' } }))).toBe('203.0.113.7');
  });

  it('falls back to request.socket.remoteAddress when request.ip is missing', () => {
    expect(clientIp(request({ socket: { remoteAddress: '198.51.100.23' } }))).toBe('198.51.100.23');
  });

  it('returns null when neither request.ip nor a socket address is available', () => {
    expect(clientIp(request())).toBeNull();
    expect(clientIp(request({ socket: {} }))).toBeNull();
    expect(clientIp(request({ ip: undefined, socket: { remoteAddress: undefined } }))).toBeNull();
  });

  it('returns null for an empty address', () => {
    expect(clientIp(request({ ip: '' }))).toBeNull();
    expect(clientIp(request({ socket: { remoteAddress: '' } }))).toBeNull();
  });

  it('turns an IPv4-mapped IPv6 address into plain IPv4', () => {
    expect(clientIp(request({ ip: '::ffff:1.2.3.4' }))).toBe('1.2.3.4');
    expect(clientIp(request({ socket: { remoteAddress: '::ffff:127.0.0.1' } }))).toBe('127.0.0.1');
  });

  it('recognises the IPv4-mapped prefix in upper case too', () => {
    expect(clientIp(request({ ip: '::FFFF:192.0.2.10' }))).toBe('192.0.2.10');
  });

  it('keeps a plain IPv6 address as it is', () => {
    expect(clientIp(request({ ip: '2001:db8::1' }))).toBe('2001:db8::1');
    expect(clientIp(request({ ip: '::1' }))).toBe('::1');
    expect(clientIp(request({ socket: { remoteAddress: 'fe80::1ff:fe23:4567:890a' } }))).toBe(
      'fe80::1ff:fe23:4567:890a',
    );
  });

  it('stores every spelling of one address the same way, so a search by address finds it', () => {
    // The hex form of an IPv4-mapped address is that IPv4 address.
    expect(clientIp(request({ ip: '::ffff:c000:280' }))).toBe('192.0.2.128');
    // A proxy's X-Forwarded-For is taken as written: upper case, leading zeros, uncompressed.
    expect(clientIp(request({ ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' }))).toBe('2001:db8::1');
    // Not an address at all, or a zone id ipaddr.js cannot read.
    expect(clientIp(request({ ip: '::ffff:not-an-ip' }))).toBeNull();
    expect(clientIp(request({ ip: 'fe80::1%a.b' }))).toBeNull();
  });

  it.each([
    'garbage',
    'localhost',
    '1.2.3',
    '256.1.1.1',
    '1.2.3.4.5',
    ' 1.2.3.4',
    '1.2.3.4, 5.6.7.8',
    '::ffff:999.1.1.1',
  ])('returns null for %j', (value) => {
    expect(clientIp(request({ ip: value }))).toBeNull();
    expect(clientIp(request({ socket: { remoteAddress: value } }))).toBeNull();
  });

  it('never reads the X-Forwarded-For header', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 7.7.7.7', 'x-real-ip': '8.8.8.8' };
    expect(clientIp(request({ headers, ip: '203.0.113.7' }))).toBe('203.0.113.7');
    expect(clientIp(request({ headers, socket: { remoteAddress: '10.1.2.3' } }))).toBe('10.1.2.3');
    expect(clientIp(request({ headers }))).toBeNull();
  });

  it('drops an IPv6 address whose zone id makes it longer than any stored address', () => {
    expect(clientIp({ headers: {}, ip: `fe80::1%${'e'.repeat(60)}` })).toBeNull();
    expect(clientIp({ headers: {}, ip: 'fe80::1%eth0' })).toBe('fe80::1%eth0');
  });
});

describe('storedIp', () => {
  it('keeps the whole address by default', () => {
    expect(storedIp('192.0.2.77', 'full')).toBe('192.0.2.77');
    expect(storedIp('2001:db8:abcd:12:1:2:3:4', 'full')).toBe('2001:db8:abcd:12:1:2:3:4');
  });

  it.each([
    ['192.0.2.77', '192.0.2.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['2001:db8:abcd:12:1:2:3:4', '2001:db8:abcd::'],
    ['2001:db8:abcd::1', '2001:db8:abcd::'],
    ['::1', '::'],
    ['fe80::1%eth0', 'fe80::'],
  ])('truncates %s to its network, %s (a /24 or a /48)', (address, network) => {
    expect(storedIp(address, 'truncated')).toBe(network);
  });

  it('keeps nothing with "none", and nothing stays nothing', () => {
    expect(storedIp('192.0.2.77', 'none')).toBeNull();
    expect(storedIp(null, 'full')).toBeNull();
    expect(storedIp(null, 'truncated')).toBeNull();
  });

  it('truncates what clientIp resolved, IPv4-mapped addresses included', () => {
    expect(recordedIp({ headers: {}, ip: '::ffff:198.51.100.23' }, 'truncated')).toBe('198.51.100.0');
    expect(recordedIp({ headers: {}, ip: 'not an ip' }, 'truncated')).toBeNull();
  });
});
