import { randomUUID } from 'node:crypto';
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { Strategy as LocalStrategyBase } from 'passport-local';

/*
 * The sign-in code of a plain NestJS app that issues its own tokens, as a stranger writes it: in-memory users,
 * passport-local, passport-jwt (its `validate()` returns no session claim) and the app's token code. The design-card
 * and three-edit fixtures share it unchanged: the three edits touch none of it.
 */

export const ACCESS_SECRET = 'host-access-secret';
export const REFRESH_SECRET = 'host-refresh-secret';

export interface AppUser {
  id: string;
  username: string;
}

/** The app's users, in memory: id, name and password. */
const USERS = [
  { id: '1', username: 'alice', password: 'alice-password' },
  { id: '2', username: 'bob', password: 'bob-password' },
];

@Injectable()
export class UsersService {
  authenticate(username: string, password: string): AppUser | undefined {
    const user = USERS.find((candidate) => candidate.username === username && candidate.password === password);
    return user && { id: user.id, username: user.username };
  }
}

/** passport-local: `request.user` is `{ id, username }` once the password matches. */
@Injectable()
export class LocalStrategy extends PassportStrategy(LocalStrategyBase) {
  constructor(private readonly users: UsersService) {
    super();
  }

  validate(username: string, password: string): AppUser {
    const user = this.users.authenticate(username, password);
    if (!user) throw new UnauthorizedException('Wrong username or password');
    return user;
  }
}

/** passport-jwt, as the docs write it: no session claim in what `validate` returns. */
@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: ACCESS_SECRET });
  }

  validate(payload: { sub: string; username: string }) {
    return { userId: payload.sub, username: payload.username };
  }
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/** The app's own token code: an access token, and a refresh token with its own secret and a `jti`. */
@Injectable()
export class TokenService {
  constructor(private readonly jwt: JwtService) {}

  issue(payload: { sub: string; username: string }): TokenPair {
    return {
      access_token: this.jwt.sign(payload),
      refresh_token: this.jwt.sign(payload, { secret: REFRESH_SECRET, expiresIn: '30d', jwtid: randomUUID() }),
    };
  }

  /** The user a refresh token names, once its signature and lifetime check out. */
  verifyRefresh(token: unknown): AppUser {
    try {
      const payload = this.jwt.verify<{ sub: string; username: string }>(String(token), { secret: REFRESH_SECRET });
      return { id: payload.sub, username: payload.username };
    } catch {
      throw new UnauthorizedException('Invalid refresh token');
    }
  }
}
