import { createHash } from 'node:crypto';
import { REFRESH_TOKEN_ID_MAX_LENGTH } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { jwtClaims } from '../values/jwt-claims.js';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The longest session claim an id starts with: with the slash and the digest, the column's length. */
const SESSION_PREFIX_MAX_LENGTH = REFRESH_TOKEN_ID_MAX_LENGTH - 65;

/**
 * The ids under which a refresh token may be stored, the one to store it under first. The digest is the SHA-256 (hex)
 * of the token's `jti` claim when given a signed JWT, of the value itself when given a jti, and of the whole token for
 * a JWT without a `jti` or an opaque token: the table never holds anything a client could present.
 *
 * A JWT that carries the session claim is stored as `<session>/<digest>`. The module's sessions are time-ordered
 * (UUIDv7), so a new login's id lands at the end of its unique index: as a bare digest it landed on a random page,
 * which SQLite wrote out again at every login. Its bare digest follows as a second id, as a row written from the `jti`
 * alone (or before 0.5) holds it.
 *
 * @throws Error when the value is empty, or shaped like a JWT whose payload is not a JSON object.
 */
export function refreshTokenIds(tokenOrJti: string, sessionClaim: string): [string, ...string[]] {
  const value = tokenOrJti.trim();
  if (!value) throw new Error('Refresh token is empty');
  const claims = jwtClaims(value);
  const jti = claims?.jti;
  const digest = sha256(typeof jti === 'string' && jti ? jti : value);
  const session = claims?.[sessionClaim];
  return typeof session === 'string' && session && session.length <= SESSION_PREFIX_MAX_LENGTH
    ? [`${session}/${digest}`, digest]
    : [digest];
}

/** What a refresh token's stored id is made of. */
export type RefreshTokenIdOptions = Pick<ResolvedDeviceTrackerOptions, 'sessionClaim' | 'storeRefreshTokenId'>;

/** The id to store a refresh token under, as `storeRefreshTokenId` says: the first of its ids, or its bare digest. */
export function refreshTokenId(tokenOrJti: string, options: RefreshTokenIdOptions): string {
  return storedId(refreshTokenIds(tokenOrJti, options.sessionClaim), options);
}

/** Of a token's ids ({@link refreshTokenIds}), the one to store it under. */
export function storedId(ids: readonly string[], options: Pick<RefreshTokenIdOptions, 'storeRefreshTokenId'>): string {
  return options.storeRefreshTokenId === 'digest' ? ids[ids.length - 1]! : ids[0]!;
}

/** {@link refreshTokenIds}, or `undefined` when the token cannot be read: it is then not one of ours. */
export function tryRefreshTokenIds(tokenOrJti: string, sessionClaim: string): string[] | undefined {
  try {
    return refreshTokenIds(tokenOrJti, sessionClaim);
  } catch {
    return undefined;
  }
}
