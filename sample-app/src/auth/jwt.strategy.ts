import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { SampleConfig } from '../config.js';
import { SAMPLE_CONFIG } from '../sample.constants.js';
import { UsersService } from '../users/users.service.js';
import { type AccessTokenPayload, type AuthenticatedUser, userIdOf } from './token-payloads.js';

/** Registered as 'jwt', the strategy the sample's `JwtAuthGuard` (an `AuthGuard('jwt')`) uses. */
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

  async validate(payload: AccessTokenPayload): Promise<AuthenticatedUser> {
    if (payload.typ !== 'access') throw new UnauthorizedException('Not an access token');
    // A deleted user's tokens die with the row, not up to an access token lifetime later; the same read says whether
    // the user is an administrator now, for AdminGuard. A read that fails is a 503 (UsersService), not a refusal.
    const userId = userIdOf(payload.sub);
    const user = userId === undefined ? null : await this.users.findById(userId);
    if (!user) throw new UnauthorizedException('User no longer exists');
    return { id: payload.sub, username: payload.username, sid: payload.sid, isAdmin: user.isAdmin };
  }
}
