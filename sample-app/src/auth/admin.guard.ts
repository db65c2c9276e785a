import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from './token-payloads.js';

/**
 * The guard the device tracker's admin endpoints run after authenticating the caller: the user must be an
 * administrator now. `isAdmin` comes from the users table, read by the JWT strategy on this request rather than from
 * a token claim, so taking the right away works at once.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { user } = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>();
    if (!user?.isAdmin) throw new ForbiddenException('Only administrators can manage the devices of other users');
    return true;
  }
}
