import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type INestApplication,
  Inject,
  Injectable,
  Module,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  type DeviceTrackerModuleOptions,
  type DeviceTrackerOptionsFactory,
  DeviceService,
  DeviceTrackerModule,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { createTestApp, initTestApp } from './support/platform.js';

const SETTINGS = 'FIXTURE_SETTINGS';
const CUSTOM: DeviceTrackerModuleOptions = { deviceIdHeader: 'X-Fixture-Device', deviceIdCookie: false };

@Module({ providers: [{ provide: SETTINGS, useValue: CUSTOM }], exports: [SETTINGS] })
class SettingsModule {}

@Injectable()
class OptionsFactory implements DeviceTrackerOptionsFactory {
  createDeviceTrackerOptions(): DeviceTrackerModuleOptions {
    return CUSTOM;
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsFactoryModule {}

/** Authenticates from an `x-user` header, to show that any guard that sets `request.user` will do. */
@Injectable()
class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
    req.user = req.headers['x-user'] ? { id: req.headers['x-user'] } : undefined;
    return req.user !== undefined;
  }
}

async function start(deviceTracker: DynamicModule, prefix?: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [HostAppModule.with(deviceTracker)] }).compile();
  const app = createTestApp(moduleRef, { logger: false });
  if (prefix) app.setGlobalPrefix(prefix);
  return initTestApp(app);
}

describe(`DeviceTrackerModule configuration (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterEach(() => app?.close());

  const loginAs = (userId: string, headers: Record<string, string> = {}) =>
    request(app!.getHttpServer()).post('/login').set(headers).send({ userId }).expect(200);

  describe.each<[string, () => DynamicModule]>([
    [
      'forRootAsync with useFactory',
      () =>
        DeviceTrackerModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: DeviceTrackerModuleOptions) => settings,
        }),
    ],
    ['forRootAsync with useClass', () => DeviceTrackerModule.forRootAsync({ useClass: OptionsFactory })],
    [
      'forRootAsync with useExisting',
      () => DeviceTrackerModule.forRootAsync({ imports: [OptionsFactoryModule], useExisting: OptionsFactory }),
    ],
    ['forRoot with options', () => DeviceTrackerModule.forRoot(CUSTOM)],
  ])('%s', (_name, deviceTracker) => {
    it('applies the options: the device id travels in the custom header and no cookie is set', async () => {
      app = await start(deviceTracker());
      const first = await loginAs('u1');
      const deviceId = first.headers['x-fixture-device'];

      expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.headers['set-cookie']).toBeUndefined();
      const again = await loginAs('u1', { 'x-fixture-device': deviceId });
      expect(again.headers['x-fixture-device']).toBe(deviceId);

      const listed = await request(app.getHttpServer())
        .get('/devices')
        .auth(again.body.access_token, { type: 'bearer' })
        .set('x-fixture-device', deviceId)
        .expect(200);
      expect(listed.body).toHaveLength(1);
      expect(listed.body[0]).toMatchObject({ id: deviceId, isCurrent: true });
    });
  });

  it('forRoot() with no options: the defaults, under the host global prefix', async () => {
    app = await start(DeviceTrackerModule.forRoot(), 'v1');
    const login = await request(app.getHttpServer()).post('/v1/login').send({ userId: '42' }).expect(200);
    expect(login.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(String(login.headers['set-cookie'])).toMatch(/^device_id=.*; HttpOnly; SameSite=Lax$/);

    await request(app.getHttpServer()).get('/devices').auth(login.body.access_token, { type: 'bearer' }).expect(404);
    const listed = await request(app.getHttpServer())
      .get('/v1/devices')
      .auth(login.body.access_token, { type: 'bearer' })
      .expect(200);
    expect(listed.body).toEqual([expect.objectContaining({ id: login.headers['x-device-id'], isCurrent: true })]);
  });

  it('marks the current device from the session claim alone, without device id header or cookie', async () => {
    app = await start(DeviceTrackerModule.forRoot({ deviceIdHeader: false, deviceIdCookie: false }));
    await loginAs('u7');
    const second = await loginAs('u7');

    const listed = await request(app.getHttpServer())
      .get('/devices')
      .auth(second.body.access_token, { type: 'bearer' })
      .expect(200);
    expect(listed.body).toHaveLength(2);
    expect(listed.body.filter((device: { isCurrent: boolean }) => device.isCurrent)).toHaveLength(1);
  });

  it("refuses tokens without a session claim with withoutSession: 'deny', and lets them through with 'allow'", async () => {
    // Without the option the devices endpoints serve such a token (issue 15): design-card.e2e-spec.ts.
    app = await start(DeviceTrackerModule.forRoot({ withoutSession: 'deny' }));
    const bare = await request(app.getHttpServer()).post('/login').send({ userId: 'u8', withoutSession: true });
    const refused = await request(app.getHttpServer())
      .get('/devices')
      .auth(bare.body.access_token, { type: 'bearer' })
      .expect(401);
    expect(refused.body.message).toMatch(/no device session \(sid claim\)/);
    await app.close();

    app = await start(DeviceTrackerModule.forRoot({ withoutSession: 'allow' }));
    const allowed = await request(app.getHttpServer()).post('/login').send({ userId: 'u8', withoutSession: true });
    await request(app.getHttpServer()).get('/devices').auth(allowed.body.access_token, { type: 'bearer' }).expect(200);
    // Without a session, header or cookie, the current device is unknown: logging out "the others" is refused.
    const others = await request(app.getHttpServer())
      .post('/devices/logout-others')
      .auth(allowed.body.access_token, { type: 'bearer' })
      .expect(400);
    expect(others.body.message).toMatch(/which device/);
  });

  it('mounts the controller at a custom path, guarded by a custom guard', async () => {
    app = await start(
      DeviceTrackerModule.forRoot({ path: 'account/sessions', authGuard: HeaderUserGuard, withoutSession: 'allow' }),
    );
    await loginAs('carol');

    await request(app.getHttpServer()).get('/account/sessions').expect(403);
    const listed = await request(app.getHttpServer()).get('/account/sessions').set('x-user', 'carol').expect(200);
    expect(listed.body).toHaveLength(1);
    const other = await request(app.getHttpServer()).get('/account/sessions').set('x-user', 'dave').expect(200);
    expect(other.body).toEqual([]);
  });

  it('mounts no routes with path: false, and DeviceService still works', async () => {
    app = await start(DeviceTrackerModule.forRoot({ path: false }));
    const login = await loginAs('erin');

    await request(app.getHttpServer()).get('/devices').auth(login.body.access_token, { type: 'bearer' }).expect(404);
    const devices = await app.get(DeviceService).list('erin');
    expect(devices.map((device) => device.id)).toEqual([login.headers['x-device-id']]);
  });

  it('tracks logins in a feature module that does not import it, with isGlobal: false', async () => {
    app = await start(DeviceTrackerModule.forRoot({ isGlobal: false }));
    const login = await loginAs('gina');
    expect(login.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('marks a SameSite=None cookie Secure even over plain HTTP', async () => {
    app = await start(DeviceTrackerModule.forRoot({ deviceIdCookie: { sameSite: 'none' } }));
    const login = await loginAs('hank');
    expect(String(login.headers['set-cookie'])).toMatch(/; Secure; SameSite=None$/);
  });

  it('fails the start, not each request, when the guard cannot be built', async () => {
    @Injectable()
    class NeedsMissingProvider implements CanActivate {
      constructor(@Inject('MISSING') readonly missing: unknown) {}
      canActivate() {
        return true;
      }
    }
    // Its own in-memory database: an app that fails half-way cannot be closed, so it must not share the test one.
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true }),
        DeviceTrackerModule.forRoot({ authGuard: NeedsMissingProvider }),
      ],
    }).compile();
    await expect(initTestApp(createTestApp(moduleRef, { logger: false }))).rejects.toThrow(/MISSING/);
  });

  it('refuses an empty path when the module is defined', () => {
    expect(() => DeviceTrackerModule.forRoot({ path: ' ' })).toThrow(/path must be a non-empty string/);
  });

  it('keeps the login answer when the device cannot be tracked', async () => {
    app = await start(DeviceTrackerModule.forRoot({ getRefreshToken: () => 'not.a-json.jwt' }));
    const login = await loginAs('frank');

    expect(login.body.access_token).toEqual(expect.any(String));
    expect(login.headers['x-device-id']).toBeUndefined();
    expect(await app.get(DeviceService).list('frank')).toEqual([]);
  });
});
