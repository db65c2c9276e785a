/** Claims of the access token. */
export interface AccessTokenPayload {
  sub: string;
  username: string;
  typ: 'access';
}

/** Claims of the refresh token; `jti` is what the device tracker stores and revokes. */
export interface RefreshTokenPayload {
  sub: string;
  jti: string;
  typ: 'refresh';
}

/** What `request.user` holds on routes behind the JWT guard. */
export interface AuthenticatedUser {
  id: string;
  username: string;
}
