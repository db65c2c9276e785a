import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { UsersService } from '../users/users.service.js';

/** No user name holds one, and PostgreSQL refuses a NUL in text: refused before the users table is read. */
const CONTROL_CHARACTER = /\p{Cc}/u;

@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: UsersService) {
    super();
  }

  /** passport-local hands over the body's fields as they are: a JSON number or object is not a password. */
  async validate(username: unknown, password: unknown) {
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new BadRequestException('username and password must be strings');
    }
    if (CONTROL_CHARACTER.test(username)) throw new BadRequestException('username must not contain control characters');
    const user = await this.users.authenticate(username, password);
    if (!user) throw new UnauthorizedException('Wrong username or password');
    return { id: user.id, username: user.username };
  }
}
