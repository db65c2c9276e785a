import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { SampleConfig } from '../config.js';
import { SAMPLE_CONFIG } from '../sample.constants.js';
import type { AccessTokenPayload, AuthenticatedUser } from './token-payloads.js';

/** Registered as 'jwt', the strategy the device tracker's default guard (`AuthGuard('jwt')`) uses. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.accessSecret,
      algorithms: ['HS256'],
    });
  }

  validate(payload: AccessTokenPayload): AuthenticatedUser {
    if (payload.typ !== 'access') throw new UnauthorizedException('Not an access token');
    return { id: payload.sub, username: payload.username, sid: payload.sid };
  }
}
