import { type ExecutionContext, HttpException, Injectable, Logger } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';

/**
 * `AuthGuard('jwt')` that says why it refused: passport hands the reason (`jwt expired`, `invalid signature`,
 * `No auth token`…) to `handleRequest`, and the stock guard drops it. Only the reason is logged, never the token;
 * the answer stays the stock one, so a client learns no more than before.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger('Auth');

  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown, context: ExecutionContext, status?: unknown) {
    const failure = err ?? (user ? undefined : info);
    // A server error (the user lookup failing) is not a refused token: whoever threw it logs it.
    if ((err || !user) && !(failure instanceof HttpException && failure.getStatus() >= 500)) {
      const { method, url } = context.switchToHttp().getRequest<{ method: string; url: string }>();
      // The path without its query, which could carry secrets.
      this.logger.warn(`Access token refused on ${method} ${url.split('?')[0]}: ${reasonOf(failure)}`);
    }
    return super.handleRequest(err, user, info, context, status);
  }
}

/** Passport's `info` is an Error of jsonwebtoken or passport-jwt; a refusing `validate()` throws an HttpException. */
function reasonOf(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  return typeof failure === 'string' && failure ? failure : 'no user';
}
