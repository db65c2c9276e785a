import { type ExecutionContext, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { type DeviceRequest, DeviceJwtGuard, type JwtClaims } from 'nestjs-device-tracker';
import { UsersService } from '../users/users.service.js';
import { authenticatedUser, logRefusal } from './access-token.js';
import type { AccessTokenPayload, AuthenticatedUser } from './token-payloads.js';

/**
 * With `auth: 'device-jwt'` (config.ts), the guard of the routes a signed-in user calls, and the module's `authGuard`:
 * the module's `DeviceJwtGuard`, which verifies the access token under the module's `jwt` option (HS256, the sample's
 * issuer and audience: app.module.ts) and checks its device session in one step, in place of `JwtAuthGuard` +
 * `DeviceSessionGuard`. Two steps are the sample's, as the passport pair has them: `validate` makes of the claims the
 * user JwtStrategy makes, and `canActivate` logs why a token was refused, as `JwtAuthGuard` does.
 */
@Injectable()
export class SampleJwtGuard extends DeviceJwtGuard {
  private readonly authLogger = new Logger('Auth');

  // DeviceJwtGuard's constructor takes the module's internals: a provider of the app's comes in as a property.
  @Inject(UsersService) private readonly users!: UsersService;

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (error) {
      const request = context.switchToHttp().getRequest<DeviceRequest & { method: string; url: string }>();
      // `request.user` is set once the token passes: a refusal after that is the device session's, which
      // DeviceSessionGuard logs itself. A server error (the user lookup failing) is logged by whoever threw it.
      if (request.user === undefined && error instanceof HttpException && error.getStatus() < 500) {
        logRefusal(this.authLogger, request, error.message);
      }
      throw error;
    }
  }

  /** The token's claims passed the signature, algorithm, lifetime, issuer and audience checks: now JwtStrategy's. */
  protected override validate(claims: JwtClaims): Promise<AuthenticatedUser> {
    return authenticatedUser(claims as unknown as AccessTokenPayload, this.users);
  }
}
