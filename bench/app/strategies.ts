import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { Strategy as LocalStrategyBase } from 'passport-local';
import { JWT_KEY } from './bench.config.js';
import { BenchUsers } from './users.js';

export interface BenchUser {
  id: string;
  sid?: string;
}

/** passport-jwt, the baseline every protected route shares. */
@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt hands the key to jsonwebtoken, which takes a KeyObject; its types only say string.
      secretOrKey: JWT_KEY as unknown as string,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: string; sid?: string }): BenchUser {
    return { id: payload.sub, sid: payload.sid };
  }
}

/** passport-local with a scrypt check, like the sample app's login. */
@Injectable()
export class LocalStrategy extends PassportStrategy(LocalStrategyBase) {
  constructor(private readonly users: BenchUsers) {
    super();
  }

  async validate(username: string, password: string): Promise<BenchUser> {
    if (!(await this.users.verify(username, password))) throw new UnauthorizedException('Wrong username or password');
    return { id: username };
  }
}
