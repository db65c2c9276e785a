import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currentDeviceId, presentedDeviceId, writeDeviceId, type DeviceResponse } from './device-id.js';
import { setDeviceSession, withClaims } from './device-session.js';
import { claimedSessionId } from './session-claim.js';
import { normaliseDeviceId } from '../values/device-id.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

const HEADER_ID = '11111111-1111-4111-8111-111111111111';
const COOKIE_ID = '22222222-2222-4222-8222-222222222222';
const CLAIM_ID = '33333333-3333-4333-8333-333333333333';
const DEVICE_ID = 'b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c';

const defaults = resolveDeviceTrackerOptions();
const FOUR_HUNDRED_DAYS_S = 400 * 24 * 60 * 60;

function request(parts: Partial<DeviceRequest> = {}): DeviceRequest {
  return { headers: {}, ...parts };
}

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

describe('normaliseDeviceId', () => {
  it('accepts UUIDs and gives them in lower case', () => {
    expect(normaliseDeviceId(DEVICE_ID)).toBe(DEVICE_ID);
    expect(normaliseDeviceId(DEVICE_ID.toUpperCase())).toBe(DEVICE_ID);
    const id = randomUUID();
    expect(normaliseDeviceId(id)).toBe(id);
    expect(normaliseDeviceId('00000000-0000-0000-0000-000000000000')).toBe('00000000-0000-0000-0000-000000000000');
  });

  it.each([
    '',
    'not-a-uuid',
    'b3c1f0a26d4e4f8a9c7b1e2d3f4a5b6c',
    '{b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c}',
    ' b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c',
    'b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c ',
    'b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c\n',
    'g3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c',
    'b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6',
    `${DEVICE_ID}, ${COOKIE_ID}`,
    "b3c1f0a2-6d4e-4f8a-9c7b-1e2d3f4a5b6c' OR '1'='1",
  ])('rejects the string %j', (value) => {
    expect(normaliseDeviceId(value)).toBeUndefined();
  });

  it.each([undefined, null, 42, {}, [DEVICE_ID], new String(DEVICE_ID)])('rejects the non-string %j', (value) => {
    expect(normaliseDeviceId(value)).toBeUndefined();
  });
});

describe('presentedDeviceId', () => {
  it('gives an upper-case id in canonical lower case', () => {
    expect(presentedDeviceId(request({ headers: { 'x-device-id': HEADER_ID.toUpperCase() } }), defaults)).toBe(
      HEADER_ID,
    );
  });

  it('reads the device id header', () => {
    expect(presentedDeviceId(request({ headers: { 'x-device-id': HEADER_ID } }), defaults)).toBe(HEADER_ID);
  });

  it('reads the first value of a header given as an array', () => {
    expect(presentedDeviceId(request({ headers: { 'x-device-id': [HEADER_ID, COOKIE_ID] } }), defaults)).toBe(
      HEADER_ID,
    );
  });

  it('reads request.cookies when a cookie parser set it', () => {
    expect(presentedDeviceId(request({ cookies: { device_id: COOKIE_ID } }), defaults)).toBe(COOKIE_ID);
  });

  it('parses the raw Cookie header when request.cookies is missing', () => {
    const headers = { cookie: `theme=dark; device_id=${COOKIE_ID}; lang=en` };
    expect(presentedDeviceId(request({ headers }), defaults)).toBe(COOKIE_ID);
  });

  it('uses request.cookies rather than the raw header when both are present', () => {
    const headers = { cookie: `device_id=${HEADER_ID}` };
    expect(presentedDeviceId(request({ headers, cookies: { device_id: COOKIE_ID } }), defaults)).toBe(COOKIE_ID);
    expect(presentedDeviceId(request({ headers, cookies: {} }), defaults)).toBeUndefined();
  });

  it('prefers the header over the cookie', () => {
    const both = request({ headers: { 'x-device-id': HEADER_ID }, cookies: { device_id: COOKIE_ID } });
    expect(presentedDeviceId(both, defaults)).toBe(HEADER_ID);
    const rawCookie = request({ headers: { 'x-device-id': HEADER_ID, cookie: `device_id=${COOKIE_ID}` } });
    expect(presentedDeviceId(rawCookie, defaults)).toBe(HEADER_ID);
  });

  it('falls back to the cookie when the header is not a UUID', () => {
    const req = request({ headers: { 'x-device-id': 'garbage' }, cookies: { device_id: COOKIE_ID } });
    expect(presentedDeviceId(req, defaults)).toBe(COOKIE_ID);
  });

  it('ignores values that are not UUIDs', () => {
    expect(presentedDeviceId(request({ headers: { 'x-device-id': 'garbage' } }), defaults)).toBeUndefined();
    expect(presentedDeviceId(request({ cookies: { device_id: 'garbage' } }), defaults)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { cookie: 'device_id=1234' } }), defaults)).toBeUndefined();
    expect(
      presentedDeviceId(request({ headers: { 'x-device-id': `${HEADER_ID}, ${COOKIE_ID}` } }), defaults),
    ).toBeUndefined();
  });

  it('returns undefined when nothing is presented', () => {
    expect(presentedDeviceId(request(), defaults)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { cookie: '' } }), defaults)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { cookie: 'other=1' } }), defaults)).toBeUndefined();
  });

  it('does not throw on a malformed Cookie header', () => {
    expect(presentedDeviceId(request({ headers: { cookie: ';;==;device_id' } }), defaults)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { cookie: 'device_id=%E0%A4%A' } }), defaults)).toBeUndefined();
  });

  it('uses the configured header and cookie names', () => {
    const options = resolveDeviceTrackerOptions({ deviceIdHeader: 'X-Client-Device', deviceIdCookie: { name: 'did' } });
    expect(presentedDeviceId(request({ headers: { 'x-client-device': HEADER_ID } }), options)).toBe(HEADER_ID);
    expect(presentedDeviceId(request({ headers: { 'x-device-id': HEADER_ID } }), options)).toBeUndefined();
    expect(presentedDeviceId(request({ cookies: { did: COOKIE_ID } }), options)).toBe(COOKIE_ID);
    expect(presentedDeviceId(request({ headers: { cookie: `did=${COOKIE_ID}` } }), options)).toBe(COOKIE_ID);
    expect(presentedDeviceId(request({ cookies: { device_id: COOKIE_ID } }), options)).toBeUndefined();
  });

  it('ignores the header when it is disabled', () => {
    const options = resolveDeviceTrackerOptions({ deviceIdHeader: false });
    expect(presentedDeviceId(request({ headers: { 'x-device-id': HEADER_ID } }), options)).toBeUndefined();
    const both = request({ headers: { 'x-device-id': HEADER_ID }, cookies: { device_id: COOKIE_ID } });
    expect(presentedDeviceId(both, options)).toBe(COOKIE_ID);
  });

  it('ignores the cookie when it is disabled', () => {
    const options = resolveDeviceTrackerOptions({ deviceIdCookie: false });
    expect(presentedDeviceId(request({ cookies: { device_id: COOKIE_ID } }), options)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { cookie: `device_id=${COOKIE_ID}` } }), options)).toBeUndefined();
    expect(presentedDeviceId(request({ headers: { 'x-device-id': HEADER_ID } }), options)).toBe(HEADER_ID);
  });

  it('reads nothing when both are disabled', () => {
    const options = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
    const both = request({ headers: { 'x-device-id': HEADER_ID }, cookies: { device_id: COOKIE_ID } });
    expect(presentedDeviceId(both, options)).toBeUndefined();
  });
});

function verified(req: DeviceRequest): DeviceRequest {
  setDeviceSession(req, withClaims({ deviceId: CLAIM_ID, sessionId: 'session-1' }, 'sid'));
  return req;
}

describe('currentDeviceId', () => {
  const presented = { 'x-device-id': HEADER_ID, cookie: `device_id=${COOKIE_ID}` };

  it('uses the device of the session verified on the request over header and cookie', () => {
    expect(currentDeviceId(verified(request({ headers: presented })), defaults)).toBe(CLAIM_ID);
  });

  it('does not take a claim in the token for a device id: only a verified session names the device', () => {
    expect(currentDeviceId(request({ headers: presented, user: { sid: CLAIM_ID } }), defaults)).toBe(HEADER_ID);
  });

  it('falls back to the presented id when no session was verified', () => {
    expect(currentDeviceId(request({ headers: presented }), defaults)).toBe(HEADER_ID);
    expect(currentDeviceId(request({ cookies: { device_id: COOKIE_ID } }), defaults)).toBe(COOKIE_ID);
  });

  it('returns undefined when neither a session nor a presented id is available', () => {
    expect(currentDeviceId(request({ user: { sub: 'u1' } }), defaults)).toBeUndefined();
    expect(currentDeviceId(request({ headers: { 'x-device-id': 'nope' } }), defaults)).toBeUndefined();
  });

  it('uses the verified session even when header and cookie are disabled', () => {
    const options = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
    expect(currentDeviceId(verified(request({ headers: presented })), options)).toBe(CLAIM_ID);
    expect(currentDeviceId(request({ headers: presented }), options)).toBeUndefined();
  });
});

/** An unsigned JWT-shaped token: the claim reader never checks signatures. */
const jwt = (payload: object) =>
  ['{"alg":"HS256"}', JSON.stringify(payload)].map((part) => Buffer.from(part).toString('base64url')).join('.') +
  '.signature';
const withHeader = (authorization: string) => ({ ...request({ user: { id: 'u1' } }), headers: { authorization } });

describe('claimedSessionId', () => {
  const sessionStore = { destroy: (_id: string, done: (error?: unknown) => void) => done() };

  it('reads the session claim of the authenticated user, under the configured name', () => {
    expect(claimedSessionId(request({ user: { sid: 'abc' } }), defaults)).toBe('abc');
    const renamed = resolveDeviceTrackerOptions({ sessionClaim: 'device_session' });
    expect(claimedSessionId(request({ user: { device_session: 'abc', sid: 'other' } }), renamed)).toBe('abc');
  });

  it.each([
    ['a number', 12345],
    ['an empty string', ''],
    ['an object', { id: 'abc' }],
    ['a value too long for the table', 'x'.repeat(256)],
  ])('ignores a claim that is %s', (_label, sid) => {
    expect(claimedSessionId(request({ user: { sid } }), defaults)).toBeUndefined();
  });

  it("falls back to express-session's id only when a session store is configured", () => {
    const req = request({ user: { id: 'u1' } });
    req.sessionID = 'express-session-id';
    expect(claimedSessionId(req, defaults)).toBeUndefined();
    expect(claimedSessionId(req, resolveDeviceTrackerOptions({ sessionStore }))).toBe('express-session-id');
  });

  describe('from the bearer token, when the strategy does not pass the claim on', () => {
    it('reads the claim of a bearer token, under the configured name', () => {
      expect(claimedSessionId(withHeader(`Bearer ${jwt({ sid: 'abc' })}`), defaults)).toBe('abc');
      const renamed = resolveDeviceTrackerOptions({ sessionClaim: 'device_session' });
      expect(claimedSessionId(withHeader(`Bearer ${jwt({ device_session: 'abc' })}`), renamed)).toBe('abc');
    });

    // passport-jwt extracts the token from these too: a logged-out token must not pass for one without a claim.
    it.each([
      ['a lower-case scheme', (token: string) => `bearer ${token}`],
      ['blanks before the scheme', (token: string) => `  Bearer ${token}`],
      ['a word after the token', (token: string) => `Bearer ${token} x`],
      ['a tab between scheme and token', (token: string) => `Bearer\t${token}`],
    ])('reads the header as passport-jwt does, with %s', (_label, header) => {
      expect(claimedSessionId(withHeader(header(jwt({ sid: 'abc' }))), defaults)).toBe('abc');
    });

    it('ignores other schemes, tokens without the claim and claims that are no session id', () => {
      expect(claimedSessionId(withHeader(`Basic ${jwt({ sid: 'abc' })}`), defaults)).toBeUndefined();
      expect(claimedSessionId(withHeader(`Bearer ${jwt({ sub: 'u1' })}`), defaults)).toBeUndefined();
      expect(claimedSessionId(withHeader(`Bearer ${jwt({ sid: 42 })}`), defaults)).toBeUndefined();
      expect(claimedSessionId(withHeader('Bearer not-a-jwt'), defaults)).toBeUndefined();
    });

    it("prefers request.user's claim, then the request's own session, to the bearer token", () => {
      const req = withHeader(`Bearer ${jwt({ sid: 'from-token' })}`);
      expect(claimedSessionId({ ...req, user: { sid: 'from-user' } }, defaults)).toBe('from-user');
      const sessions = resolveDeviceTrackerOptions({ sessionStore });
      expect(claimedSessionId({ ...req, sessionID: 'express-session-id' }, sessions)).toBe('express-session-id');
    });
  });

  it("falls back to @fastify/session's id the same way", () => {
    const req = request({ user: { id: 'u1' } });
    req.session = { sessionId: 'fastify-session-id', destroy: (done) => done() };
    expect(claimedSessionId(req, defaults)).toBeUndefined();
    expect(claimedSessionId(req, resolveDeviceTrackerOptions({ sessionStore }))).toBe('fastify-session-id');
  });
});

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
