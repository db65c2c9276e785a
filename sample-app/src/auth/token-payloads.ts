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
}
