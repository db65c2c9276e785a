import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currentDeviceId, presentedDeviceId } from './device-id.js';
import { DEVICE_ID, defaults, request } from './device-id.fixtures.js';
import { setDeviceSession, withClaims } from './device-session.js';
import { normaliseDeviceId } from '../values/device-id.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

const HEADER_ID = '11111111-1111-4111-8111-111111111111';
const COOKIE_ID = '22222222-2222-4222-8222-222222222222';
const CLAIM_ID = '33333333-3333-4333-8333-333333333333';

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
