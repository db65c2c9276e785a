const JWT_SHAPE = /^[\w-]+\.([\w-]+)\.[\w-]*$/;

/**
 * The claims of `value` when it is shaped like a JWT, `undefined` when it is not (a jti or an opaque token). The
 * signature is not checked here: the host issued the token (login) or verified it (refresh) before handing it over.
 *
 * @throws Error when it is shaped like a JWT whose payload is not a JSON object.
 */
export function jwtClaims(value: string): Record<string, unknown> | undefined {
  const payloadSegment = JWT_SHAPE.exec(value)?.[1];
  if (payloadSegment === undefined) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8'));
  } catch {
    throw new Error('Refresh token looks like a JWT but its payload cannot be decoded');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error('Refresh token looks like a JWT but its payload is not an object');
  }
  return payload as Record<string, unknown>;
}

/** The string claim `name` of `token` when it is shaped like a JWT; `undefined` otherwise. Signature not checked. */
export function jwtStringClaim(token: string, name: string): string | undefined {
  try {
    const claim = jwtClaims(token.trim())?.[name];
    return typeof claim === 'string' && claim ? claim : undefined;
  } catch {
    return undefined;
  }
}
