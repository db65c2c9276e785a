import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { IncomingMessage } from 'node:http';
import type { Auth } from 'better-auth';
import { fromNodeHeaders } from 'better-auth/node';
import { Device } from 'nestjs-device-tracker';
import type { Repository } from 'typeorm';
import type { BenchUser } from './strategies.js';
import { BETTER_AUTH } from './better-auth.provider.js';
import { BenchUsers } from './users.js';

interface BenchRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: { username?: unknown };
  user?: BenchUser;
}

/**
 * The per-request check of the peers that read the device row on every request (django-trusted-devices and
 * hand-rolled guards): one indexed lookup of the token's session, no cache.
 */
@Injectable()
export class NaiveDeviceGuard implements CanActivate {
  constructor(@InjectRepository(Device) private readonly devices: Repository<Device>) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const user = context.switchToHttp().getRequest<BenchRequest>().user;
    const device = user?.sid
      ? await this.devices.findOne({
          select: { id: true, userId: true },
          where: { sessionId: user.sid, isActive: true },
        })
      : null;
    if (!device || device.userId !== user?.id) throw new UnauthorizedException('This device has been logged out');
    return true;
  }
}

/** better-auth's own session check (`auth.api.getSession`), with its defaults: one database lookup per request. */
@Injectable()
export class BetterAuthGuard implements CanActivate {
  constructor(@Inject(BETTER_AUTH) private readonly auth: Auth) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<IncomingMessage & BenchRequest>();
    const session = await this.auth.api.getSession({ headers: fromNodeHeaders(request.headers) });
    if (!session) throw new UnauthorizedException('Not signed in');
    request.user = { id: session.user.id };
    return true;
  }
}

/** Names the user in the body, no password: the login routes that isolate what the tracker adds to a login. */
@Injectable()
export class BodyUserGuard implements CanActivate {
  constructor(private readonly users: BenchUsers) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<BenchRequest>();
    const username = request.body?.username;
    if (!this.users.exists(username)) throw new UnauthorizedException('Unknown user');
    request.user = { id: username };
    return true;
  }
}
