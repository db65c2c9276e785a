import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { CurrentDevice, type DeviceSession, DeviceSessionGuard } from 'nestjs-device-tracker';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import type { AuthenticatedUser } from './auth/token-payloads.js';

@Controller('me')
export class MeController {
  /** The signed-in user; 401 as soon as this device is logged out, even while the access token has not expired. */
  @Get()
  @UseGuards(JwtAuthGuard, DeviceSessionGuard)
  me(
    @Req() request: { user: AuthenticatedUser },
    @CurrentDevice() device: DeviceSession,
  ): { id: string; username: string; deviceId: string } {
    return { id: request.user.id, username: request.user.username, deviceId: device.deviceId };
  }
}
