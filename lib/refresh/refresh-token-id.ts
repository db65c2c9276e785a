import { createHash } from 'node:crypto';
import { jwtClaims } from '../values/jwt-claims.js';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The id under which a refresh token is stored: the SHA-256 (hex) of its `jti` claim when given a signed JWT, of the
 * value itself when given a jti, and of the whole token for a JWT without a `jti` or an opaque token. A token and its
 * jti therefore map to the same id, and the table never holds anything a client could present.
 *
 * @throws Error when the value is empty, or shaped like a JWT whose payload is not a JSON object.
 */
export function refreshTokenId(tokenOrJti: string): string {
  const value = tokenOrJti.trim();
  if (!value) throw new Error('Refresh token is empty');
  const jti = jwtClaims(value)?.jti;
  return sha256(typeof jti === 'string' && jti ? jti : value);
}

/** {@link refreshTokenId}, or `undefined` when the token cannot be read: it is then not one of ours. */
export function tryRefreshTokenId(tokenOrJti: string): string | undefined {
  try {
    return refreshTokenId(tokenOrJti);
  } catch {
    return undefined;
  }
}
