import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { UsersService } from '../users/users.service.js';
import type { AuthenticatedUser } from './token-payloads.js';

/**
 * The guard the device tracker's admin endpoints run after authenticating the caller: the user must be an
 * administrator now. It asks the database rather than a token claim, so taking the right away works at once.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly users: UsersService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { user } = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>();
    const found = user && (await this.users.findById(Number(user.id)));
    if (!found?.isAdmin) throw new ForbiddenException('Only administrators can manage the devices of other users');
    return true;
  }
}
