import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { AuthenticatedUser } from './auth/token-payloads.js';

@Controller('me')
export class MeController {
  @Get()
  @UseGuards(AuthGuard('jwt'))
  me(@Req() request: { user: AuthenticatedUser }): AuthenticatedUser {
    return request.user;
  }
}
