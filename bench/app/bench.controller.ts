import { Body, Controller, Get, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Auth } from 'better-auth';
import {
  CurrentDevice,
  DeviceJwtGuard,
  type DeviceSession,
  DeviceSessionGuard,
  TrackDevice,
} from 'nestjs-device-tracker';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { JWT_KEY } from './bench.config.js';
import { BETTER_AUTH } from './better-auth.provider.js';
import { BetterAuthGuard, BodyUserGuard, NaiveDeviceGuard } from './guards.js';
import type { BenchUser } from './strategies.js';

interface UserRequest {
  user: BenchUser;
}

/** What `DeviceJwtGuard` makes `request.user`: the token's verified claims. */
interface ClaimsRequest {
  user: { sub: string; sid: string };
}

/** One route shape, five ways to protect it; and the same login with and without `@TrackDevice()`. */
@Controller()
export class BenchController {
  constructor(
    private readonly jwt: JwtService,
    @Inject(BETTER_AUTH) private readonly auth: Auth,
  ) {}

  @Get('plain')
  @UseGuards(AuthGuard('jwt'))
  plain(@Req() { user }: UserRequest) {
    return { user: user.id };
  }

  @Get('tracked')
  @UseGuards(AuthGuard('jwt'), DeviceSessionGuard)
  tracked(@Req() { user }: UserRequest) {
    return { user: user.id };
  }

  /** The one-step guard: verifies the token (the module's `jwt` option) and checks its session, no passport. */
  @Get('jwt')
  @UseGuards(DeviceJwtGuard)
  oneStep(@Req() { user }: ClaimsRequest) {
    return { user: user.sub };
  }

  @Get('naive')
  @UseGuards(AuthGuard('jwt'), NaiveDeviceGuard)
  naive(@Req() { user }: UserRequest) {
    return { user: user.id };
  }

  @Get('better-auth')
  @UseGuards(BetterAuthGuard)
  betterAuth(@Req() { user }: UserRequest) {
    return { user: user.id };
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(AuthGuard('local'))
  login(@Req() { user }: UserRequest) {
    return this.tokens(user.id, randomUUID());
  }

  @Post('login/tracked')
  @HttpCode(200)
  @UseGuards(AuthGuard('local'))
  @TrackDevice()
  loginTracked(@Req() { user }: UserRequest, @CurrentDevice() device: DeviceSession) {
    return this.tokens(user.id, device.sessionId);
  }

  @Post('token-login')
  @HttpCode(200)
  @UseGuards(BodyUserGuard)
  tokenLogin(@Req() { user }: UserRequest) {
    return this.tokens(user.id, randomUUID());
  }

  @Post('token-login/tracked')
  @HttpCode(200)
  @UseGuards(BodyUserGuard)
  @TrackDevice()
  tokenLoginTracked(@Req() { user }: UserRequest, @CurrentDevice() device: DeviceSession) {
    return this.tokens(user.id, device.sessionId);
  }

  /** A better-auth user with a session, for the runner: answers its session cookie. */
  @Post('better-auth/sign-up')
  @HttpCode(200)
  async signUp(@Body() { email }: { email: string }) {
    const response = await this.auth.api.signUpEmail({
      body: { email, password: 'bench-password', name: email },
      asResponse: true,
    });
    return { cookie: response.headers.get('set-cookie')?.split(';')[0] };
  }

  private async tokens(sub: string, sid: string) {
    const [access_token, refresh_token] = await Promise.all([
      this.jwt.signAsync({ sub, sid }, { privateKey: JWT_KEY, expiresIn: 900 }),
      this.jwt.signAsync({ sub, sid }, { privateKey: JWT_KEY, expiresIn: 86_400, jwtid: randomUUID() }),
    ]);
    return { access_token, refresh_token };
  }
}
