import { describe, expect, it } from 'vitest';
import { defaults, request } from './device-id.fixtures.js';
import { claimedSessionId } from './session-claim.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';

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
