import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { SampleConfig } from '../config.js';
import { SAMPLE_CONFIG } from '../sample.constants.js';
import { UsersService } from '../users/users.service.js';
import { authenticatedUser } from './access-token.js';
import type { AccessTokenPayload, AuthenticatedUser } from './token-payloads.js';

/** Registered as 'jwt' with `auth: 'passport'`: the strategy the sample's `JwtAuthGuard` (`AuthGuard('jwt')`) uses. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    @Inject(SAMPLE_CONFIG) config: SampleConfig,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.accessSecret,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
  }

  /** An access token, of a user who still exists, with `isAdmin` read now (access-token.ts). */
  validate(payload: AccessTokenPayload): Promise<AuthenticatedUser> {
    return authenticatedUser(payload, this.users);
  }
}
