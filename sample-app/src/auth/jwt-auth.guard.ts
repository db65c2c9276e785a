import { type ExecutionContext, HttpException, Injectable, Logger } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { logRefusal } from './access-token.js';

/**
 * `AuthGuard('jwt')` that says why it refused: passport hands the reason (`jwt expired`, `invalid signature`,
 * `No auth token`…) to `handleRequest`, and the stock guard drops it. Only the reason is logged, never the token;
 * the answer stays the stock one, so a client learns no more than before. The guard of `auth: 'passport'` (config.ts).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger('Auth');

  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown, context: ExecutionContext, status?: unknown) {
    const failure = err ?? (user ? undefined : info);
    // A server error (the user lookup failing) is not a refused token: whoever threw it logs it.
    if ((err || !user) && !(failure instanceof HttpException && failure.getStatus() >= 500)) {
      logRefusal(this.logger, context.switchToHttp().getRequest(), reasonOf(failure));
    }
    return super.handleRequest(err, user, info, context, status);
  }
}

/** Passport's `info` is an Error of jsonwebtoken or passport-jwt; a refusing `validate()` throws an HttpException. */
function reasonOf(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  return typeof failure === 'string' && failure ? failure : 'no user';
}
