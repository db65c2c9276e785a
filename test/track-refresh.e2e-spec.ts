import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  HttpCode,
  type INestApplication,
  Injectable,
  Module,
  Post,
  type Type,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import {
  CurrentDevice,
  type DeviceSession,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceRequest,
  TrackDevice,
  TrackRefresh,
  TrackRefreshInterceptor,
  type TrackRefreshOptions,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshRotationService } from '../lib/refresh/refresh-rotation.service.js';
import { BodyUserGuard, FIXTURE_JWT_SECRET, FixtureJwtStrategy } from './fixtures/host-app.module.js';
import { testTypeOrmModule, TEST_DB } from './support/database.js';
import { LogCollector } from './support/log-collector.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';

const REVOKED = 'Refresh token has been revoked or already used';
const INVALID = 'Invalid refresh token; sign in again';

/** A refresh route that hands out a new access token only: its refresh token lives until it expires. */
@Controller()
class NonRotatingAuthController {
  constructor(private readonly jwt: JwtService) {}

  @Post('login')
  @HttpCode(200)
  @UseGuards(BodyUserGuard)
  @TrackDevice()
  login(@Body() body: { userId: string }, @CurrentDevice() device: DeviceSession) {
    const claims = { sub: body.userId, ...device.claims };
    return { access_token: this.jwt.sign(claims), refresh_token: this.jwt.sign(claims, { jwtid: randomUUID() }) };
  }

  @Post('refresh')
  @HttpCode(200)
  @TrackRefresh()
  refresh(@Body('refresh_token') token: string, @CurrentDevice() device: DeviceSession) {
    const { sub } = this.jwt.verify<{ sub: string }>(token);
    return { access_token: this.jwt.sign({ sub, ...device.claims }) };
  }
}

/** A host app around one refresh controller: the fixture's JWT strategy, and the module without a reuse grace. */
function refreshApp(controller: Type): Type {
  @Module({
    imports: [
      testTypeOrmModule(),
      PassportModule,
      JwtModule.register({ secret: FIXTURE_JWT_SECRET }),
      DeviceTrackerModule.forRoot({ refreshReuseGrace: 0 }),
    ],
    controllers: [controller],
    providers: [FixtureJwtStrategy],
  })
  class RefreshAppModule {}
  return RefreshAppModule;
}

const NonRotatingAppModule = refreshApp(NonRotatingAuthController);

describe(`@TrackRefresh() on a refresh route that does not rotate (${TEST_DB})`, () => {
  const logs = new LogCollector();
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const refresh = (token: string) => http().post('/refresh').send({ refresh_token: token });

  async function login(): Promise<{ access: string; refresh: string; deviceId: string }> {
    const { body, headers } = await http().post('/login').send({ userId: 'alice' }).expect(200);
    return { access: body.access_token, refresh: body.refresh_token, deviceId: headers['x-device-id'] };
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [NonRotatingAppModule] }).compile();
    app = await startTestApp(moduleRef, { logger: logs });
  });
  afterAll(() => app?.close());
  beforeEach(() => logs.clear());

  it('lets the current refresh token refresh again and again, and says that nothing rotates', async () => {
    const alice = await login();
    for (let i = 0; i < 3; i++) {
      const { body } = await refresh(alice.refresh).expect(200);
      expect(body).toEqual({ access_token: expect.any(String) });
      await http().get('/devices').auth(body.access_token, { type: 'bearer' }).expect(200);
    }
    expect(logs.lines.warn).toContain(
      '[DeviceTracker] No refresh token found in the refresh result: the device was not rotated',
    );
  });

  it('refuses a replaced refresh token, which it cannot rotate to catch its reuse', async () => {
    const alice = await login();
    const replacement = app.get(JwtService).sign({ sub: 'alice' }, { jwtid: randomUUID() });
    await app.get(DeviceService).rotateRefreshToken(alice.refresh, replacement);

    const refused = await refresh(alice.refresh).expect(401);
    expect(refused.body.message).toBe(REVOKED);
  });

  it("refuses a logged-out device's refresh token as revoked", async () => {
    const alice = await login();
    await http().post(`/devices/${alice.deviceId}/logout`).auth(alice.access, { type: 'bearer' }).expect(200);
    expect((await refresh(alice.refresh).expect(401)).body.message).toBe(REVOKED);
  });

  it.each([
    ['a value that is no JWT', () => 'garbage'],
    ['a JWT whose payload cannot be read', () => 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln'],
    ['a well-signed JWT no device was given', () => jwtService().sign({ sub: 'alice' }, { jwtid: randomUUID() })],
    ['a JWT naming a session no device has', () => jwtService().sign({ sub: 'alice', sid: randomUUID() })],
  ])('refuses %s as invalid, before the handler runs', async (_label, token) => {
    const refused = await refresh(token()).expect(401);
    expect(refused.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: INVALID });
  });

  const jwtService = () => app.get(JwtService);
});

/** Our refresh route takes the token from a header and answers `{ tokens: { access, refresh } }`. */
@Injectable()
class HeaderTrackRefreshInterceptor extends TrackRefreshInterceptor {
  protected override getPresentedToken(req: DeviceRequest, route: TrackRefreshOptions): string | null | undefined {
    return (req.headers['x-refresh-token'] as string | undefined) ?? super.getPresentedToken(req, route);
  }

  protected override getRefreshToken(result: unknown, route: TrackRefreshOptions): string | null | undefined {
    return (
      (result as { tokens?: { refresh?: string } } | null)?.tokens?.refresh ?? super.getRefreshToken(result, route)
    );
  }
}

@Controller()
class HeaderRefreshController {
  constructor(private readonly jwt: JwtService) {}

  @Post('login')
  @HttpCode(200)
  @UseGuards(BodyUserGuard)
  @TrackDevice({ getRefreshToken: (result) => (result as { tokens: { refresh: string } }).tokens.refresh })
  login(@Body() body: { userId: string }, @CurrentDevice() device: DeviceSession) {
    return this.issue(body.userId, device);
  }

  @Post('refresh')
  @HttpCode(200)
  @TrackRefresh()
  @UseInterceptors(HeaderTrackRefreshInterceptor)
  refresh(@CurrentDevice() device: DeviceSession) {
    return this.issue('alice', device);
  }

  private issue(sub: string, device: DeviceSession) {
    return {
      tokens: {
        access: this.jwt.sign({ sub, ...device.claims }),
        refresh: this.jwt.sign({ sub, ...device.claims }, { jwtid: randomUUID() }),
      },
    };
  }
}

const HeaderRefreshAppModule = refreshApp(HeaderRefreshController);

describe(`a TrackRefreshInterceptor subclass on the refresh route (${TEST_DB})`, () => {
  let app: INestApplication;
  const clock = new ManualClock();
  const http = () => request(app.getHttpServer());
  const refresh = (token: string) => http().post('/refresh').set('x-refresh-token', token).send({});

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HeaderRefreshAppModule] })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
  });
  afterAll(() => app?.close());

  it('takes the route over from the app-wide one: its steps find both tokens, and the device rotates once', async () => {
    const { body, headers } = await http().post('/login').send({ userId: 'alice' }).expect(200);
    const rotations = vi.spyOn(app.get(RefreshRotationService), 'rotate');

    // The app-wide interceptor, acting too, would find no refresh_token in the body and answer 400.
    const refreshed = await refresh(body.tokens.refresh).expect(200);
    expect(rotations).toHaveBeenCalledOnce();
    rotations.mockRestore();
    const device = await app.get(DeviceService).findOne('alice', headers['x-device-id']);
    expect(await app.get(DeviceService).isRefreshTokenActive(refreshed.body.tokens.refresh)).toBe(true);
    expect(device.isActive).toBe(true);

    // The replaced token, past the (zero) grace: reuse, found by the subclass's own steps.
    clock.advance(5);
    expect((await refresh(body.tokens.refresh).expect(401)).body.message).toBe(REVOKED);
    expect((await app.get(DeviceService).findOne('alice', headers['x-device-id'])).isActive).toBe(false);
  });

  it('still answers 400 naming the field when neither step finds a token', async () => {
    const missing = await http().post('/refresh').send({}).expect(400);
    expect(missing.body.message).toBe('No refresh token in the request: send it as refresh_token in the body');
  });
});
