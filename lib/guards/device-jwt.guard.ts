import { type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { DEVICE_TRACKER_OPTIONS } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { bearerToken } from '../http/session-claim.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { JWT_VERIFIER, type JwtClaims, type JwtVerifier } from '../jwt/jwt-verifier.js';
import { TrackingRetrier } from '../login/tracking-retrier.js';
import { LastSeenRecorder } from '../sessions/last-seen-recorder.js';
import { SessionVerifier } from '../sessions/session-verifier.js';
import { DeviceSessionGuard } from './device-session.guard.js';
import { DeviceTrackerAuthGuard } from './device-tracker-auth.guard.js';

/** Whether each controller is one of the module's, guarded by `DeviceTrackerAuthGuard`: read once per controller. */
const moduleControllers = new WeakMap<object, boolean>();

/**
 * Authenticates the bearer token and checks its device session in one step: use it in place of `AuthGuard('jwt')` +
 * `DeviceSessionGuard`, with the module's `jwt` option saying how tokens are signed. The token is verified as
 * passport-jwt verifies it (signature, pinned algorithms, `exp`, `nbf`, and `iss`/`aud` when configured); its claims
 * become `request.user`, then the session is checked as `DeviceSessionGuard` checks it (`@SkipDeviceSession()` skips
 * that check, not the authentication). HTTP only.
 *
 * Subclass it to change a step: {@link getToken}, {@link validate}, and those of `DeviceSessionGuard`. A subclass that
 * needs a provider of the app's injects it as a property (`@Inject(UsersService) private readonly users`).
 */
@Injectable()
export class DeviceJwtGuard extends DeviceSessionGuard {
  private readonly verifier: JwtVerifier;

  constructor(
    reflector: Reflector,
    sessions: SessionVerifier,
    lastSeen: LastSeenRecorder,
    retrier: TrackingRetrier,
    @Inject(DEVICE_TRACKER_OPTIONS) options: ResolvedDeviceTrackerOptions,
    @Inject(JWT_VERIFIER) verifier: JwtVerifier | null,
  ) {
    super(reflector, sessions, lastSeen, retrier, options);
    if (!verifier) {
      throw new Error(
        'DeviceJwtGuard needs the `jwt` option of DeviceTrackerModule.forRoot() (for example `jwt: { secret }`) to ' +
          'verify tokens; with passport, use AuthGuard("jwt") and DeviceSessionGuard instead',
      );
    }
    this.verifier = verifier;
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') {
      throw new UnauthorizedException('DeviceJwtGuard authenticates HTTP requests only');
    }
    const request = context.switchToHttp().getRequest<DeviceRequest>();
    const token = this.getToken(request);
    if (!token) throw new UnauthorizedException('Sign in: this request carries no bearer token');
    const user = this.validate(this.verifier.verify(token), request);
    // A subclass's validate() may ask the database; the default answers at once, and so does the guard then.
    return isThenable(user)
      ? Promise.resolve(user).then((resolved) => this.authenticated(context, request, resolved))
      : this.authenticated(context, request, user);
  }

  private authenticated(context: ExecutionContext, request: DeviceRequest, user: unknown): boolean | Promise<boolean> {
    if (user === undefined || user === null || user === false) throw new UnauthorizedException('Invalid access token');
    request.user = user;
    // As the `authGuard` of the module's own endpoints it authenticates only, as any other would: the session guard
    // they run next checks the session, by their rules (a token without a session claim is served there, with a
    // warning, unless `withoutSession` says otherwise), and once.
    if (this.isModuleAuthGuard(context)) return true;
    return super.canActivate(context);
  }

  /** Whether it runs for `DeviceTrackerAuthGuard`, on the module's own endpoints, rather than on a route of the app. */
  private isModuleAuthGuard(context: ExecutionContext): boolean {
    const controller = context.getClass();
    let answer = moduleControllers.get(controller);
    if (answer === undefined) {
      const guards = this.reflector.get<unknown[] | undefined>(GUARDS_METADATA, controller);
      moduleControllers.set(controller, (answer = guards?.includes(DeviceTrackerAuthGuard) ?? false));
    }
    return answer;
  }

  /** The access token: by default the bearer token of `Authorization`, read as passport-jwt reads it. */
  protected getToken(request: DeviceRequest): string | undefined {
    return bearerToken(request);
  }

  /**
   * What becomes `request.user`, from the verified claims (as a passport strategy's `validate()`), or a promise of
   * it: by default the claims themselves. Return `null` or throw an `HttpException` to refuse the token.
   */
  protected validate(claims: JwtClaims, _request: DeviceRequest): unknown {
    return claims;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
