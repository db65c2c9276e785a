import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { requireCheckedSession } from '../http/caller.js';
import { DEVICES_ADMIN_GUARD } from '../device-tracker.constants.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

/**
 * Guards the admin endpoints with the host's `admin.guard`, resolved at start (see `HostGuard`). Runs after
 * `DeviceSessionGuard`: a session that guard could not verify gets no admin powers, whatever the host's guard says.
 */
@Injectable()
export class DeviceTrackerAdminGuard implements CanActivate {
  constructor(@Inject(DEVICES_ADMIN_GUARD) private readonly delegate: CanActivate) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    requireCheckedSession(context.switchToHttp().getRequest<DeviceRequest>());
    return this.delegate.canActivate(context);
  }
}
