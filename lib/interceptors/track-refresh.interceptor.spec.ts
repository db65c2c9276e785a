import 'reflect-metadata';
import { type CallHandler, Controller, Injectable, Post, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { TrackRefresh } from '../decorators/track-refresh.decorator.js';
import { resolveDeviceTrackerOptions } from '../device-tracker.options.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import type { RefreshRotationService } from '../refresh/refresh-rotation.service.js';
import { TrackRefreshInterceptor } from './track-refresh.interceptor.js';

/** Takes the token from a header, and the new one from `{ tokens: { refresh } }`. */
@Injectable()
class HeaderTrackRefreshInterceptor extends TrackRefreshInterceptor {
  protected override getPresentedToken(req: DeviceRequest): string | undefined {
    return req.headers['x-refresh-token'] as string | undefined;
  }

  protected override getRefreshToken(result: unknown): string | undefined {
    return (result as { tokens?: { refresh?: string } }).tokens?.refresh;
  }
}

@Controller()
class AuthController {
  @Post('refresh')
  @TrackRefresh()
  refresh() {}

  @Post('refresh-by-header')
  @TrackRefresh()
  @UseInterceptors(HeaderTrackRefreshInterceptor)
  refreshByHeader() {}

  @Post('refresh-twice')
  @TrackRefresh()
  @UseInterceptors(TrackRefreshInterceptor)
  refreshTwice() {}

  @Post('refresh-own-way')
  @TrackRefresh({
    getPresentedToken: (req) => req.headers['x-token'] as string,
    getRefreshToken: (result) => (result as { next: string }).next,
  })
  refreshOwnWay() {}

  @Post('other')
  other() {}
}

/** A rotation service that knows every token, and records what it is asked. */
function fakeRefresh() {
  return {
    sessionOf: vi.fn<RefreshRotationService['sessionOf']>(async () => ({
      deviceId: 'device-1',
      sessionId: 'session-1',
    })),
    rotate: vi.fn<(oldToken: string, newToken: string, client?: unknown) => Promise<object>>(async () => ({})),
    isActive: vi.fn<RefreshRotationService['isActive']>(async () => true),
  };
}

function interceptor<T extends TrackRefreshInterceptor>(
  Class: new (...args: ConstructorParameters<typeof TrackRefreshInterceptor>) => T,
  refresh = fakeRefresh(),
): T {
  return new Class(new Reflector(), refresh as unknown as RefreshRotationService, resolveDeviceTrackerOptions({}));
}

function requestWith(body: unknown = {}, headers: Record<string, string> = {}): DeviceRequest {
  return { headers, body, socket: { remoteAddress: '198.51.100.7' } } as unknown as DeviceRequest;
}

/** Runs `request` through `chain` (outermost first, as Nest runs app-wide before route interceptors) to `answer`. */
async function handle(
  route: keyof AuthController,
  chain: TrackRefreshInterceptor[],
  req: DeviceRequest,
  answer: unknown,
) {
  const context = new ExecutionContextHost([req, {}], AuthController, AuthController.prototype[route]);
  const handler: CallHandler = { handle: () => of(answer) };
  const next = chain.reduceRight<CallHandler>(
    (inner, outer) => ({ handle: () => outer.intercept(context, inner) }),
    handler,
  );
  return firstValueFrom(next.handle());
}

describe('TrackRefreshInterceptor', () => {
  it('reads the body and the answer by default, and rotates the device from one to the other', async () => {
    const refresh = fakeRefresh();
    const appWide = interceptor(TrackRefreshInterceptor, refresh);
    const answer = { refresh_token: 'new' };
    await expect(handle('refresh', [appWide], requestWith({ refreshToken: 'old' }), answer)).resolves.toBe(answer);
    expect(refresh.sessionOf).toHaveBeenCalledExactlyOnceWith('old');
    expect(refresh.rotate).toHaveBeenCalledExactlyOnceWith('old', 'new', expect.anything());
  });

  it("uses the route's getPresentedToken and getRefreshToken", async () => {
    const refresh = fakeRefresh();
    const chain = [interceptor(TrackRefreshInterceptor, refresh)];
    await handle('refreshOwnWay', chain, requestWith({}, { 'x-token': 'old' }), { next: 'new' });
    expect(refresh.rotate).toHaveBeenCalledExactlyOnceWith('old', 'new', expect.anything());
  });

  it('leaves a route it is not asked on alone', async () => {
    const refresh = fakeRefresh();
    await handle('other', [interceptor(TrackRefreshInterceptor, refresh)], requestWith(), {});
    expect(refresh.sessionOf).not.toHaveBeenCalled();
  });

  it('leaves a route to the subclass @UseInterceptors() puts there: only its steps run, once', async () => {
    const [appWideRefresh, routeRefresh] = [fakeRefresh(), fakeRefresh()];
    const chain = [
      interceptor(TrackRefreshInterceptor, appWideRefresh),
      interceptor(HeaderTrackRefreshInterceptor, routeRefresh),
    ];
    await handle('refreshByHeader', chain, requestWith({}, { 'x-refresh-token': 'old' }), {
      tokens: { refresh: 'new' },
    });
    expect(appWideRefresh.sessionOf).not.toHaveBeenCalled();
    expect(routeRefresh.sessionOf).toHaveBeenCalledExactlyOnceWith('old');
    expect(routeRefresh.rotate).toHaveBeenCalledExactlyOnceWith('old', 'new', expect.anything());
  });

  it('acts once on a request that two of them see, the first', async () => {
    const [first, second] = [fakeRefresh(), fakeRefresh()];
    const chain = [interceptor(TrackRefreshInterceptor, first), interceptor(TrackRefreshInterceptor, second)];
    await handle('refreshTwice', chain, requestWith({ refresh_token: 'old' }), { refresh_token: 'new' });
    expect(first.rotate).toHaveBeenCalledOnce();
    expect(second.sessionOf).not.toHaveBeenCalled();
  });
});
