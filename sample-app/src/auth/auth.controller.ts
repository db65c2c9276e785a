import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { TrackDevice } from 'nestjs-device-tracker';
import { AuthService, type TokenPair } from './auth.service.js';
import { RefreshTokenDto } from './refresh-token.dto.js';

@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Body `{ username, password }`. The device is recorded once the tokens are issued. */
  @Post('login')
  @HttpCode(200)
  @UseGuards(AuthGuard('local'))
  @TrackDevice()
  login(@Req() request: { user: { id: number; username: string } }): Promise<TokenPair> {
    return this.auth.issueTokens(request.user);
  }

  /** Body `{ refresh_token }`. Refused once the token's device is logged out or the token was already used. */
  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPair> {
    return this.auth.refresh(body.refresh_token);
  }
}
