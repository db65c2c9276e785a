import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { Device, DeviceTrackerModule } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GuardedAppModule, type GuardedAppOptions, type ProfileAnswer } from './fixtures/guarded-app.module.js';
import { FIXTURE_JWT_SECRET } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { startTestApp } from './support/platform.js';
import { sidOf } from './support/token-claims.js';

const LOGGED_OUT = { statusCode: 401, message: 'This device has been logged out; sign in again' };

interface Login {
  access: string;
  deviceId: string;
}

describe.each<[string, GuardedAppOptions['guards']]>([
  ['registered app-wide with APP_GUARD after the JWT guard', 'global'],
  ['put on a controller with @UseGuards(AuthGuard("jwt"), DeviceSessionGuard)', 'controller'],
])(`DeviceSessionGuard %s (${TEST_DB})`, (_name, guards) => {
  let app: INestApplication;
  let devices: Repository<Device>;
  const http = () => request(app.getHttpServer());

  async function login(userId: string, headers: Record<string, string> = {}): Promise<Login> {
    const response = await http().post('/login').set(headers).send({ userId }).expect(200);
    expect(response.headers['x-device-id']).toMatch(/^[0-9a-f-]{36}$/);
    return { access: response.body.access_token, deviceId: response.headers['x-device-id'] };
  }

  const get = (path: string, session?: Login) => {
    const call = http().get(path);
    return session ? call.auth(session.access, { type: 'bearer' }) : call;
  };

  /** Logs `target` out through the devices API, as the user would from another of their devices. */
  async function logOut(target: Login, from: Login): Promise<void> {
    const response = await http()
      .post(`/devices/${target.deviceId}/logout`)
      .auth(from.access, { type: 'bearer' })
      .expect(200);
    expect(response.body).toMatchObject({ id: target.deviceId, isActive: false });
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GuardedAppModule.with(DeviceTrackerModule.forRoot(), { guards })],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    devices = app.get(DataSource).getRepository(Device);
  });

  afterAll(() => app?.close());

  beforeEach(() => devices.clear());

  it('hands a guarded route the verified device session through @CurrentDevice()', async () => {
    const alice = await login('alice');

    const response = await get('/me', alice).expect(200);
    const row = await devices.findOneByOrFail({ id: alice.deviceId });
    expect(response.body).toEqual<ProfileAnswer>({
      userId: 'alice',
      device: { deviceId: alice.deviceId, sessionId: sidOf(alice.access) },
    });
    expect(row.sessionId).toBe(sidOf(alice.access));
  });

  it("refuses a logged-out device's token on ordinary routes and still serves it on a @SkipDeviceSession() route", async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    await get('/me', laptop).expect(200);

    await logOut(laptop, phone);

    const refused = await get('/me', laptop).expect(401);
    expect(refused.body).toMatchObject(LOGGED_OUT);
    await get('/devices', laptop).expect(401);
    // Exempt from the device check, yet still authenticated: the token is valid, only its device is logged out.
    const skipped = await get('/me/skip', laptop).expect(200);
    expect(skipped.body).toEqual<ProfileAnswer>({ userId: 'alice', device: null });
    // The device that did the logout is untouched.
    const phoneAnswer = await get('/me', phone).expect(200);
    expect(phoneAnswer.body.device).toEqual({ deviceId: phone.deviceId, sessionId: sidOf(phone.access) });
  });

  it('refuses the tokens of an earlier login of the same device once it has logged in again', async () => {
    const first = await login('alice');
    const again = await login('alice', { 'x-device-id': first.deviceId });
    expect(again.deviceId).toBe(first.deviceId);

    const refused = await get('/me', first).expect(401);
    expect(refused.body).toMatchObject(LOGGED_OUT);
    const answer = await get('/me', again).expect(200);
    expect(answer.body.device).toEqual({ deviceId: first.deviceId, sessionId: sidOf(again.access) });
  });

  it('lets public routes through without a token: the guard checks sessions, it does not authenticate', async () => {
    const laptop = await login('alice');
    const phone = await login('alice');
    await logOut(laptop, phone);

    const anonymous = await get('/public').expect(200);
    expect(anonymous.body).toEqual<ProfileAnswer>({ userId: null, device: null });
    // A public route does not look at a token sent anyway, even one of a logged-out device.
    const withToken = await get('/public', laptop).expect(200);
    expect(withToken.body).toEqual<ProfileAnswer>({ userId: null, device: null });
  });

  it('leaves requests without a valid token to the JWT guard, on guarded and exempt routes alike', async () => {
    for (const path of ['/me', '/me/skip']) {
      const missing = await get(path).expect(401);
      expect(missing.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
      await http().get(path).auth('not.a.jwt', { type: 'bearer' }).expect(401);
    }
  });

  it('refuses a valid token that carries no device session, but not on the exempt route', async () => {
    await login('alice');
    const bare = { access: new JwtService({ secret: FIXTURE_JWT_SECRET }).sign({ sub: 'alice' }), deviceId: '' };

    const refused = await get('/me', bare).expect(401);
    expect(refused.body.message).toMatch(/no device session \(sid claim\)/);
    await get('/me/skip', bare).expect(200);
  });

  it("refuses a token whose session belongs to another user's device", async () => {
    const bob = await login('bob');
    // Signed with the app's secret (as a confused or compromised token issuer could): Alice's id, Bob's session.
    const forged = new JwtService({ secret: FIXTURE_JWT_SECRET }).sign({ sub: 'alice', sid: sidOf(bob.access) });

    await get('/me', { access: forged, deviceId: bob.deviceId }).expect(401);
    await get('/me', bob).expect(200);
  });
});
