import { SESSION_ID_MAX_LENGTH } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { jwtStringClaim } from '../values/jwt-claims.js';
import { requestSessionId } from './request-session.js';

/** passport-jwt's own reading of `Authorization` (`auth_header.js`): a scheme, blanks, a value; nothing anchored. */
const AUTH_HEADER = /(\S+)\s+(\S+)/;

/**
 * The session an authenticated request claims: the session claim of `request.user` (signed into its token by the
 * host), else, when the app tracks sessions, the express-session or @fastify/session id, else the claim of the bearer
 * token itself, for strategies whose `validate()` does not pass it on.
 *
 * The bearer token is read without checking its signature: the request was authenticated before this is asked, and a
 * session id counts only as one of this user's live sessions, which a forged token cannot name without holding it.
 * The header is read as passport-jwt reads it, so a token passport accepts is never taken here for one without a claim.
 */
export function claimedSessionId(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): string | undefined {
  const claim = (request.user as Record<string, unknown> | undefined)?.[options.sessionClaim];
  if (isSessionId(claim)) return claim;
  const sessionId = requestSessionId(request, options);
  if (sessionId) return sessionId;
  const fromToken = bearerTokenClaim(request, options.sessionClaim);
  return isSessionId(fromToken) ? fromToken : undefined;
}

function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= SESSION_ID_MAX_LENGTH;
}

/** The bearer token of `Authorization`, read as passport-jwt reads it. */
export function bearerToken(request: DeviceRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? AUTH_HEADER.exec(header) : null;
  return match && match[1]!.toLowerCase() === 'bearer' ? match[2] : undefined;
}

function bearerTokenClaim(request: DeviceRequest, name: string): string | undefined {
  const token = bearerToken(request);
  return token === undefined ? undefined : jwtStringClaim(token, name);
}
