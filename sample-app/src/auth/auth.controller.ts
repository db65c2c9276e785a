import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { CurrentDevice, type DeviceRequest, type DeviceSession, TrackDevice } from 'nestjs-device-tracker';
import { AuthService, type TokenPair } from './auth.service.js';
import { RefreshTokenDto } from './refresh-token.dto.js';

@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Body `{ username, password }`. The tokens carry the device session; the device is recorded once they exist. */
  @Post('login')
  @HttpCode(200)
  @UseGuards(AuthGuard('local'))
  @TrackDevice()
  login(
    @Req() request: { user: { id: number; username: string } },
    @CurrentDevice() device: DeviceSession,
  ): Promise<TokenPair> {
    return this.auth.issueTokens(request.user, device.sessionId);
  }

  /** Body `{ refresh_token }`. Refused once the token's device is logged out or the token was already used. */
  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: RefreshTokenDto, @Req() request: DeviceRequest): Promise<TokenPair> {
    return this.auth.refresh(body.refresh_token, request);
  }
}
