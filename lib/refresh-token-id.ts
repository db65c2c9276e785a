import { createHash } from 'node:crypto';

const JWT_SHAPE = /^[\w-]+\.([\w-]+)\.[\w-]*$/;
const MAX_ID_LENGTH = 255;

function digest(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/**
 * The id under which a refresh token is stored: its `jti` claim when given a signed JWT, the value itself when given
 * a jti. A JWT without a `jti` (or an over-long id) is stored as its SHA-256 digest, so it can still be revoked and
 * the token itself is never written to the database.
 *
 * The token's signature is not checked here: the host issued it (login) or verified it (refresh) before handing it
 * over.
 *
 * @throws Error when the value is empty, or shaped like a JWT whose payload is not a JSON object.
 */
export function refreshTokenId(tokenOrJti: string): string {
  const value = tokenOrJti.trim();
  if (!value) throw new Error('Refresh token is empty');
  const payloadSegment = JWT_SHAPE.exec(value)?.[1];
  if (payloadSegment === undefined) return value.length > MAX_ID_LENGTH ? digest(value) : value;

  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8'));
  } catch {
    throw new Error('Refresh token looks like a JWT but its payload cannot be decoded');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error('Refresh token looks like a JWT but its payload is not an object');
  }
  const { jti } = payload as { jti?: unknown };
  return typeof jti === 'string' && jti && jti.length <= MAX_ID_LENGTH ? jti : digest(value);
}
