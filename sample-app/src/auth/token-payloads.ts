/** Claims of the access token; `sid` is the device session the device tracker checks on every request. */
export interface AccessTokenPayload {
  sub: string;
  username: string;
  sid: string;
  typ: 'access';
}

/** Claims of the refresh token; `jti` is what the device tracker rotates and revokes. */
export interface RefreshTokenPayload {
  sub: string;
  sid: string;
  jti: string;
  typ: 'refresh';
}

/** What `request.user` holds on routes behind the JWT guard. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  sid: string;
  /** Read from `sample_users` on this very request, not from the token: revoking the right takes effect at once. */
  isAdmin: boolean;
}

/**
 * The `sub` of a verified token as a `sample_users` id, or undefined when it cannot be one: tokens are signed with
 * `String(user.id)`, and a lookup with NaN or an out-of-range number would be a database error (a 500) on PostgreSQL.
 */
export function userIdOf(sub: unknown): number | undefined {
  const id = typeof sub === 'string' && /^[1-9]\d{0,9}$/.test(sub) ? Number(sub) : NaN;
  return id <= 2 ** 31 - 1 ? id : undefined;
}
