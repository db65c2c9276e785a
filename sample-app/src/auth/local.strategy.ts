import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { UsersService } from '../users/users.service.js';

@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: UsersService) {
    super();
  }

  async validate(username: string, password: string) {
    const user = await this.users.authenticate(username, password);
    if (!user) throw new UnauthorizedException('Wrong username or password');
    return { id: user.id, username: user.username };
  }
}
