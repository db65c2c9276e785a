import { type DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import type { SampleAuth } from '../config.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import { LocalStrategy } from './local.strategy.js';
import { SampleJwtGuard } from './sample-jwt.guard.js';

@Module({})
export class AuthModule {
  /**
   * Sign-in (passport-local) and refresh, and what authenticates access tokens: passport-jwt's strategy for `passport`;
   * for `device-jwt`, no passport-jwt at all, but SampleJwtGuard as a provider, for the device tracker to use as its
   * `authGuard`.
   */
  static register(auth: SampleAuth): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule, JwtModule.register({}), UsersModule],
      controllers: [AuthController],
      providers: [AuthService, LocalStrategy, auth === 'passport' ? JwtStrategy : SampleJwtGuard],
    };
  }
}
