import { Logger, UnauthorizedException } from '@nestjs/common';
import type { UsersService } from '../users/users.service.js';
import { type AccessTokenPayload, type AuthenticatedUser, userIdOf } from './token-payloads.js';

/*
 * What the sample's two ways of authenticating an access token share (config.ts, `auth`): JwtStrategy (passport) and
 * SampleJwtGuard (DeviceJwtGuard) make the same user of a verified token, and log a refusal in the same words.
 */

/**
 * `request.user` for the verified claims of an access token: an access token (not a refresh token signed with the
 * access secret), of a user who still exists, with `isAdmin` as the users table says now.
 */
export async function authenticatedUser(claims: AccessTokenPayload, users: UsersService): Promise<AuthenticatedUser> {
  if (claims.typ !== 'access') throw new UnauthorizedException('Not an access token');
  // A deleted user's tokens die with the row, not up to an access token lifetime later; the same read says whether
  // the user is an administrator now, for AdminGuard. A read that fails is a 503 (UsersService), not a refusal.
  const userId = userIdOf(claims.sub);
  const user = userId === undefined ? null : await users.findById(userId);
  if (!user) throw new UnauthorizedException('User no longer exists');
  return { id: claims.sub, username: claims.username, sid: claims.sid, isAdmin: user.isAdmin };
}

/** Logs why an access token was refused on this request: the reason only, never the token. */
export function logRefusal(logger: Logger, request: { method: string; url: string }, reason: string): void {
  // The path without its query, which could carry secrets.
  logger.warn(`Access token refused on ${request.method} ${request.url.split('?')[0]}: ${reason}`);
}
