import { describe, expect, it } from 'vitest';
import { presentedDeviceId, writeDeviceId, type DeviceResponse } from './device-id.js';
import { DEVICE_ID, defaults, request } from './device-id.fixtures.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';

const FOUR_HUNDRED_DAYS_S = 400 * 24 * 60 * 60;

/** Records calls like Express's `res.append()` (which never replaces earlier values). */
function expressResponse() {
  const calls: Array<[string, string]> = [];
  const headerCalls: Array<[string, string]> = [];
  const response: Required<DeviceResponse> = {
    append(name: string, value: string) {
      calls.push([name, value]);
    },
    // Express also has `header()`, an alias of `set()` that replaces values: it must not be used.
    header(name: string, value: string) {
      headerCalls.push([name, value]);
    },
  };
  return { response, calls, headerCalls };
}

/** Records calls like Fastify's `reply.header()`. */
function fastifyResponse() {
  const calls: Array<[string, string]> = [];
  const response: DeviceResponse = {
    header(name: string, value: string) {
      calls.push([name, value]);
    },
  };
  return { response, calls };
}

function setCookieOf(calls: Array<[string, string]>): string {
  const cookies = calls.filter(([name]) => name.toLowerCase() === 'set-cookie').map(([, value]) => value);
  expect(cookies).toHaveLength(1);
  return cookies[0]!;
}

function attributesOf(setCookie: string): string[] {
  return setCookie.split('; ').slice(1);
}

describe('writeDeviceId', () => {
  describe('with an Express-like response (append)', () => {
    it('writes the header and an httpOnly, SameSite=Lax cookie with Max-Age in seconds', () => {
      const { response, calls, headerCalls } = expressResponse();
      writeDeviceId(request({ secure: false, protocol: 'http' }), response, DEVICE_ID, defaults);

      expect(headerCalls).toEqual([]);
      expect(calls).toHaveLength(2);
      expect(calls).toContainEqual(['x-device-id', DEVICE_ID]);

      const setCookie = setCookieOf(calls);
      expect(setCookie.startsWith(`device_id=${DEVICE_ID}; `)).toBe(true);
      const attributes = attributesOf(setCookie);
      expect(attributes).toContain('HttpOnly');
      expect(attributes).toContain('SameSite=Lax');
      expect(attributes).toContain('Path=/');
      expect(attributes).toContain(`Max-Age=${FOUR_HUNDRED_DAYS_S}`);
      expect(attributes).not.toContain('Secure');
      expect(setCookie).not.toMatch(/Domain=/i);
      expect(setCookie).not.toMatch(/Expires=/i);
    });

    it('sets Secure when request.secure is true', () => {
      const { response, calls } = expressResponse();
      writeDeviceId(request({ secure: true, protocol: 'https' }), response, DEVICE_ID, defaults);
      expect(attributesOf(setCookieOf(calls))).toContain('Secure');
    });

    it('sets Secure when the protocol is https and request.secure is absent (Fastify)', () => {
      const { response, calls } = expressResponse();
      writeDeviceId(request({ protocol: 'https' }), response, DEVICE_ID, defaults);
      expect(attributesOf(setCookieOf(calls))).toContain('Secure');
    });

    it('does not set Secure for plain http or when nothing tells the protocol', () => {
      for (const req of [request({ protocol: 'http' }), request()]) {
        const { response, calls } = expressResponse();
        writeDeviceId(req, response, DEVICE_ID, defaults);
        expect(attributesOf(setCookieOf(calls))).not.toContain('Secure');
      }
    });

    it('sets Secure when options.secure is true, even over http', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdCookie: { secure: true } });
      const { response, calls } = expressResponse();
      writeDeviceId(request({ secure: false, protocol: 'http' }), response, DEVICE_ID, options);
      expect(attributesOf(setCookieOf(calls))).toContain('Secure');
    });

    it('does not set Secure when options.secure is false, even over https', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdCookie: { secure: false } });
      const { response, calls } = expressResponse();
      writeDeviceId(request({ secure: true, protocol: 'https' }), response, DEVICE_ID, options);
      expect(attributesOf(setCookieOf(calls))).not.toContain('Secure');
    });

    it('applies the configured cookie name, path, domain, SameSite and lifetime', () => {
      const options = resolveDeviceTrackerOptions({
        deviceIdCookie: { name: 'did', path: '/auth', domain: 'example.com', sameSite: 'strict', maxAge: 90_500 },
      });
      const { response, calls } = expressResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      const setCookie = setCookieOf(calls);
      expect(setCookie.startsWith(`did=${DEVICE_ID}; `)).toBe(true);
      const attributes = attributesOf(setCookie);
      expect(attributes).toContain('Path=/auth');
      expect(attributes).toContain('Domain=example.com');
      expect(attributes).toContain('SameSite=Strict');
      expect(attributes).toContain('Max-Age=90');
      expect(attributes).toContain('HttpOnly');
    });

    it('writes SameSite=None when configured', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdCookie: { sameSite: 'none', secure: true } });
      const { response, calls } = expressResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      const attributes = attributesOf(setCookieOf(calls));
      expect(attributes).toContain('SameSite=None');
      expect(attributes).toContain('Secure');
    });

    it('uses the configured (lowercased) header name', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdHeader: 'X-Client-Device' });
      const { response, calls } = expressResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      expect(calls).toContainEqual(['x-client-device', DEVICE_ID]);
      expect(calls.map(([name]) => name)).not.toContain('x-device-id');
    });

    it('writes only the cookie when the header is disabled', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdHeader: false });
      const { response, calls } = expressResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      expect(calls).toHaveLength(1);
      expect(setCookieOf(calls).startsWith(`device_id=${DEVICE_ID};`)).toBe(true);
    });

    it('writes only the header when the cookie is disabled', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdCookie: false });
      const { response, calls } = expressResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      expect(calls).toEqual([['x-device-id', DEVICE_ID]]);
    });

    it('writes nothing when both are disabled', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
      const { response, calls, headerCalls } = expressResponse();
      writeDeviceId(request({ secure: true }), response, DEVICE_ID, options);
      expect(calls).toEqual([]);
      expect(headerCalls).toEqual([]);
    });
  });

  describe('with a Fastify-like response (header only)', () => {
    it('writes the header and the cookie through header()', () => {
      const { response, calls } = fastifyResponse();
      writeDeviceId(request({ protocol: 'https' }), response, DEVICE_ID, defaults);
      expect(calls).toHaveLength(2);
      expect(calls).toContainEqual(['x-device-id', DEVICE_ID]);
      const setCookie = setCookieOf(calls);
      expect(setCookie.startsWith(`device_id=${DEVICE_ID}; `)).toBe(true);
      expect(attributesOf(setCookie)).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', `Max-Age=${FOUR_HUNDRED_DAYS_S}`, 'Secure']),
      );
    });

    it('writes nothing when both are disabled', () => {
      const options = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
      const { response, calls } = fastifyResponse();
      writeDeviceId(request(), response, DEVICE_ID, options);
      expect(calls).toEqual([]);
    });
  });

  it('does not throw when the response has neither append() nor header()', () => {
    expect(() => writeDeviceId(request(), {}, DEVICE_ID, defaults)).not.toThrow();
  });

  it('writes an id the next request presents back', () => {
    const { response, calls } = expressResponse();
    writeDeviceId(request(), response, DEVICE_ID, defaults);
    const cookiePair = setCookieOf(calls).split(';')[0]!;
    expect(presentedDeviceId(request({ headers: { cookie: cookiePair } }), defaults)).toBe(DEVICE_ID);
    const [headerName, headerValue] = calls.find(([name]) => name === 'x-device-id')!;
    expect(presentedDeviceId(request({ headers: { [headerName]: headerValue } }), defaults)).toBe(DEVICE_ID);
  });
});
