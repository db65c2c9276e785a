import { createHash } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';

/** The claims of a JWT an app handed out, read without verifying it. */
export const claimsOf = (token: string) => new JwtService().decode<Record<string, unknown>>(token);

/** The device session a token names (`sid`). */
export const sidOf = (token: string) => claimsOf(token).sid as string;

/** A token's id (`jti`): the refresh token id the tracker stores a digest of. */
export const jtiOf = (token: string) => claimsOf(token).jti as string;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The id the tracker stores a refresh token under: the SHA-256 of its `jti`, after its session (`sid`) and a slash
 * when it carries one, so a new session's token lands at the end of the index.
 */
export const storedIdOf = (token: string) => {
  const { jti, sid } = claimsOf(token) as { jti: string; sid?: string };
  return sid ? `${sid}/${sha256(jti)}` : sha256(jti);
};
