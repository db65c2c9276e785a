import { JwtService } from '@nestjs/jwt';

/** The claims of a JWT an app handed out, read without verifying it. */
export const claimsOf = (token: string) => new JwtService().decode<Record<string, unknown>>(token);

/** The device session a token names (`sid`). */
export const sidOf = (token: string) => claimsOf(token).sid as string;

/** A token's id (`jti`): the refresh token id the tracker stores a digest of. */
export const jtiOf = (token: string) => claimsOf(token).jti as string;
