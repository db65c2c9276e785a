import type { INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import {
  Device,
  DeviceService,
  DeviceTrackerEvents,
  DeviceTrackerModule,
  type DeviceRequest,
  type MaxDevicesOptions,
} from 'nestjs-device-tracker';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GuardedAppModule } from './fixtures/guarded-app.module.js';
import { FIXTURE_JWT_SECRET } from './fixtures/host-app.module.js';
import { TEST_DB, testTypeOrmModule } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { startSampleApp } from './support/sample-app.js';
import { storedIdOf } from './support/token-claims.js';

const fromDevice = (deviceId?: string): DeviceRequest => ({
  headers: deviceId ? { 'x-device-id': deviceId } : {},
  ip: '192.0.2.1',
});

describe(`races and edges of revocation, in the sample app (${TEST_DB})`, () => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const http = () => request(app.getHttpServer());
  const login = (deviceId?: string) =>
    http()
      .post('/auth/login')
      .set(deviceId ? { 'x-device-id': deviceId } : {})
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
  const refresh = (token: string) => http().post('/auth/refresh').send({ refresh_token: token });
  const me = (token: string) => http().get('/me').auth(token, { type: 'bearer' });
  const clock = new ManualClock();

  beforeAll(async () => {
    // A short grace period, so the test can step past it.
    app = await startSampleApp({ refreshReuseGraceMs: 300 }, false, clock);
    devices = app.get(getRepositoryToken(Device));
  });

  afterEach(() => vi.restoreAllMocks());
  afterAll(() => app?.close());

  it('keeps the token the first of two concurrent refreshes was given usable after the grace period', async () => {
    const signedIn = await login();
    const deviceId = signedIn.headers['x-device-id'];
    const answers = await Promise.all([refresh(signedIn.body.refresh_token), refresh(signedIn.body.refresh_token)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const { refreshTokenJti: current } = await devices.findOneByOrFail({ id: deviceId });
    const other = answers.map((answer) => answer.body.refresh_token as string).find((t) => storedIdOf(t) !== current);
    expect(other).toBeDefined();

    clock.advance(400); // past the grace period: in real life, when the access token has expired
    const next = await refresh(other!).expect(200);
    expect(await devices.findOneByOrFail({ id: deviceId })).toMatchObject({
      isActive: true,
      refreshTokenJti: storedIdOf(next.body.refresh_token),
    });
    await me(next.body.access_token).expect(200);
  });

  it('takes the replaced token for theft once the grace period is over', async () => {
    const signedIn = await login();
    await refresh(signedIn.body.refresh_token).expect(200);
    clock.advance(400);
    await refresh(signedIn.body.refresh_token).expect(401);
    expect((await devices.findOneByOrFail({ id: signedIn.headers['x-device-id'] })).isActive).toBe(false);
  });

  it('ends the new session too when a logout races with a new login of the same device', async () => {
    const first = await login();
    const deviceId = first.headers['x-device-id'];
    let second: request.Response | undefined;
    const update = devices.update.bind(devices);
    let armed = true;
    vi.spyOn(devices, 'update').mockImplementation(async (criteria, values) => {
      if (armed && (values as Partial<Device>).isActive === false) {
        armed = false;
        // The logout has read the row; the user signs in again on that device and uses the new session.
        second = await login(deviceId);
        await me(second.body.access_token).expect(200);
      }
      return update(criteria, values);
    });

    await app.get(DeviceService).logout('1', deviceId);
    vi.restoreAllMocks();

    expect((await devices.findOneByOrFail({ id: deviceId })).isActive).toBe(false);
    await me(second!.body.access_token).expect(401);
    await me(first.body.access_token).expect(401);
  });
});

describe(`maxDevices under racing logins (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  afterEach(() => app?.close());

  async function start(maxDevices?: MaxDevicesOptions) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        testTypeOrmModule(),
        EventEmitterModule.forRoot(),
        DeviceTrackerModule.forRoot({ maxDevices, path: false }),
      ],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    return {
      service: app.get(DeviceService),
      devices: app.get<Repository<Device>>(getRepositoryToken(Device)),
      events: app.get(EventEmitter2),
    };
  }

  it('evict-oldest: of two logins racing for the last place, exactly one device stays logged in', async () => {
    const { service, devices } = await start({ limit: 1, policy: 'evict-oldest' });
    for (let round = 0; round < 10; round++) {
      const user = `racer-${round}`;
      await Promise.all([
        service.track(fromDevice(), user, `a-${round}`),
        service.track(fromDevice(), user, `b-${round}`),
      ]);
      expect(await devices.countBy({ userId: user, isActive: true })).toBe(1);
    }
  });

  it('reject: announces only the devices that were kept, when racing logins are refused', async () => {
    const { service, devices, events } = await start({ limit: 1, policy: 'reject' });
    const created: string[] = [];
    events.on(DeviceTrackerEvents.DEVICE_CREATED, ({ device }: { device: { id: string } }) => created.push(device.id));
    const results = await Promise.allSettled([
      service.track(fromDevice(), 'v', 'jti-a'),
      service.track(fromDevice(), 'v', 'jti-b'),
    ]);

    const kept = await devices.findBy({ userId: 'v' });
    expect(kept.length).toBeLessThanOrEqual(1);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(kept.length);
    expect(created.toSorted()).toEqual(kept.map((device) => device.id).toSorted());
  });

  it('reject: a new login of a device that is already active is never refused, even over the limit', async () => {
    const { service, devices } = await start({ limit: 1, policy: 'reject' });
    // Two active devices, as left by a larger limit before it was lowered.
    const first = await service.track(fromDevice(), 'u', 'jti-1');
    await devices.insert({
      ...first,
      id: '00000000-0000-4000-8000-000000000002',
      sessionId: 's2',
      refreshTokenJti: null,
    });

    const again = await service.track(fromDevice(first.id), 'u', 'jti-3');
    expect(again.id).toBe(first.id);
    expect((await devices.findOneByOrFail({ id: first.id })).isActive).toBe(true);
  });

  it('gives a new device an id of its own, never one the client chose', async () => {
    const { service } = await start();
    const chosen = '12345678-1234-4123-8123-123456789abc';
    // @TrackDevice() on a route whose user is only known after the handler.
    const session = await service.prepareLogin(fromDevice(chosen));
    expect(session.deviceId).not.toBe(chosen);
    const device = await service.track(fromDevice(chosen), 'someone', 'jti-r', session);
    expect(device.id).not.toBe(chosen);
  });
});

describe(`DeviceSessionGuard with a user it cannot identify (${TEST_DB})`, () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GuardedAppModule.with(DeviceTrackerModule.forRoot(), { guards: 'global' })],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
  });
  afterAll(() => app?.close());

  it('answers 401 rather than letting the request through unchecked', async () => {
    const jwt = new JwtService({ secret: FIXTURE_JWT_SECRET });
    for (const token of [jwt.sign({ sub: 'u'.repeat(129) }), jwt.sign({ sub: 'u'.repeat(129), sid: 'whatever' })]) {
      const answer = await request(app.getHttpServer()).get('/me').auth(token, { type: 'bearer' }).expect(401);
      expect(answer.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'The authenticated user has no id',
      });
    }
  });
});
