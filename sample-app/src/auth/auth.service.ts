import { randomUUID } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DeviceService, type DeviceRequest } from 'nestjs-device-tracker';
import { SAMPLE_CONFIG } from '../sample.constants.js';
import type { SampleConfig } from '../config.js';
import { UsersService } from '../users/users.service.js';
import type { RefreshTokenPayload } from './token-payloads.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly jwt: JwtService,
    private readonly devices: DeviceService,
    private readonly users: UsersService,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** Both tokens carry the device session (`sid`), so logging the device out kills both. */
  async issueTokens(user: { id: number | string; username: string }, sid: string): Promise<TokenPair> {
    const { accessSecret, refreshSecret, accessTtl, refreshTtl } = this.config.jwt;
    const sub = String(user.id);
    const [access_token, refresh_token] = await Promise.all([
      this.jwt.signAsync(
        { sub, username: user.username, sid, typ: 'access' },
        { secret: accessSecret, expiresIn: accessTtl },
      ),
      this.jwt.signAsync(
        { sub, sid, typ: 'refresh' },
        { secret: refreshSecret, expiresIn: refreshTtl, jwtid: randomUUID() },
      ),
    ]);
    return { access_token, refresh_token, token_type: 'Bearer', expires_in: accessTtl };
  }

  /**
   * Checks the refresh token's signature, then lets the device tracker refuse it if its device was logged out or
   * the token was already used (which logs the device out: it may have been stolen), and moves the device to the
   * new refresh token. The session stays the same.
   */
  async refresh(refreshToken: string, request: DeviceRequest): Promise<TokenPair> {
    let payload: RefreshTokenPayload;
    try {
      payload = await this.jwt.verifyAsync<RefreshTokenPayload>(refreshToken, {
        secret: this.config.jwt.refreshSecret,
      });
    } catch {
      throw new UnauthorizedException('Refresh token is invalid or expired');
    }
    if (payload.typ !== 'refresh' || typeof payload.sid !== 'string') {
      throw new UnauthorizedException('Not a refresh token');
    }
    const user = await this.users.findById(Number(payload.sub));
    if (!user) throw new UnauthorizedException('User no longer exists');
    const tokens = await this.issueTokens(user, payload.sid);
    await this.devices.rotateRefreshToken(refreshToken, tokens.refresh_token, request);
    return tokens;
  }
}
