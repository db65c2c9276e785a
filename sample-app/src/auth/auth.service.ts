import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DeviceService, type DeviceRequest } from 'nestjs-device-tracker';
import { SAMPLE_CONFIG } from '../sample.constants.js';
import type { SampleConfig } from '../config.js';
import { UsersService } from '../users/users.service.js';
import { type RefreshTokenPayload, userIdOf } from './token-payloads.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly jwt: JwtService,
    private readonly devices: DeviceService,
    private readonly users: UsersService,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** Both tokens carry the device session (`sid`), so logging the device out kills both. */
  async issueTokens(user: { id: number | string; username: string }, sid: string): Promise<TokenPair> {
    const { accessSecret, refreshSecret, accessTtl, refreshTtl, issuer, audience } = this.config.jwt;
    const sub = String(user.id);
    const [access_token, refresh_token] = await Promise.all([
      this.jwt.signAsync(
        { sub, username: user.username, sid, typ: 'access' },
        { secret: accessSecret, expiresIn: accessTtl, issuer, audience },
      ),
      this.jwt.signAsync(
        { sub, sid, typ: 'refresh' },
        { secret: refreshSecret, expiresIn: refreshTtl, jwtid: randomUUID(), issuer, audience },
      ),
    ]);
    return { access_token, refresh_token, token_type: 'Bearer', expires_in: accessTtl };
  }

  /**
   * Checks the refresh token's signature, issuer and audience, then lets the device tracker refuse it if its device
   * was logged out or the token was already used (which logs the device out: it may have been stolen), and moves the
   * device to the new refresh token. The session stays the same.
   */
  async refresh(refreshToken: string, request: DeviceRequest): Promise<TokenPair> {
    let payload: RefreshTokenPayload;
    try {
      payload = await this.jwt.verifyAsync<RefreshTokenPayload>(refreshToken, {
        secret: this.config.jwt.refreshSecret,
        // jsonwebtoken would take any HMAC algorithm with this secret; the tokens are signed with HS256 only.
        algorithms: ['HS256'],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      });
    } catch (error) {
      throw this.refused((error as Error).message, 'Refresh token is invalid or expired');
    }
    if (payload.typ !== 'refresh' || typeof payload.sid !== 'string') {
      throw this.refused('not a refresh token', 'Not a refresh token');
    }
    const userId = userIdOf(payload.sub);
    const user = userId === undefined ? null : await this.users.findById(userId);
    if (!user) throw this.refused(`user ${payload.sub} no longer exists`, 'User no longer exists');
    const tokens = await this.issueTokens(user, payload.sid);
    try {
      await this.devices.rotateRefreshToken(refreshToken, tokens.refresh_token, request);
    } catch (error) {
      // Logged out, replaced, or replayed (which logs the device out): the device tracker's message says which.
      if (error instanceof UnauthorizedException) throw this.refused(`user ${user.id}: ${error.message}`, error);
      throw error;
    }
    return tokens;
  }

  /** Logs why a refresh was refused (never the token) and gives the 401 to answer with. */
  private refused(reason: string, answer: string | UnauthorizedException): UnauthorizedException {
    this.logger.warn(`Refresh refused: ${reason}`);
    return typeof answer === 'string' ? new UnauthorizedException(answer) : answer;
  }
}
