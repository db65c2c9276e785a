import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { CurrentDevice, type DeviceSession, DeviceSessionGuard } from 'nestjs-device-tracker';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { SampleJwtGuard } from './auth/sample-jwt.guard.js';
import type { AuthenticatedUser } from './auth/token-payloads.js';

/** `GET /me`, behind the guards of the sample's `auth` (config.ts): one of the two controllers below. */
abstract class MeRoutes {
  /** The signed-in user; 401 as soon as this device is logged out, even while the access token has not expired. */
  @Get()
  me(
    @Req() request: { user: AuthenticatedUser },
    @CurrentDevice() device: DeviceSession,
  ): { id: string; username: string; deviceId: string } {
    return { id: request.user.id, username: request.user.username, deviceId: device.deviceId };
  }
}

/** `auth: 'passport'`: passport-jwt authenticates the token, then `DeviceSessionGuard` checks its device session. */
@Controller('me')
@UseGuards(JwtAuthGuard, DeviceSessionGuard)
export class MeController extends MeRoutes {}

/** `auth: 'device-jwt'`: `SampleJwtGuard`, a `DeviceJwtGuard`, does both in one step. */
@Controller('me')
@UseGuards(SampleJwtGuard)
export class DeviceJwtMeController extends MeRoutes {}
