import { createHash, randomUUID } from 'node:crypto';
import { BadRequestException, type INestApplication, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JwtService } from '@nestjs/jwt';
import {
  Device,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceRequest,
} from 'nestjs-device-tracker';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';

const jwt = new JwtService({ secret: 'service-spec' });
const refreshToken = (jti: string) => jwt.sign({ sub: 'u' }, { jwtid: jti });
const storedId = (jti: string) => createHash('sha256').update(jti).digest('hex');
const fromDevice = (headers: DeviceRequest['headers'] = {}, ip = '192.0.2.10'): DeviceRequest => ({ headers, ip });

describe(`DeviceService used directly by the host (${TEST_DB})`, () => {
  let app: INestApplication;
  let service: DeviceService;
  const clock = new ManualClock();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot())],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
    service = app.get(DeviceService);
  });

  afterAll(() => app?.close());

  beforeEach(() => app.get(DataSource).getRepository(Device).clear());

  it('tracks numeric and string user ids alike, and the same device id updates the same row', async () => {
    const first = await service.track(fromDevice(), 7, refreshToken('jti-1'));
    const again = await service.track(fromDevice({ 'x-device-id': first.id }, '2001:db8::5'), '7', 'jti-2');

    expect(again.id).toBe(first.id);
    expect(await service.list(7)).toEqual([
      expect.objectContaining({
        id: first.id,
        userId: '7',
        ipAddress: '2001:db8::5',
        refreshTokenJti: storedId('jti-2'),
      }),
    ]);
  });

  it('reads nothing to record a new device prepared for its user, and reads before writing it again', async () => {
    const repository = app.get(DataSource).getRepository(Device);
    const request = fromDevice();
    const session = await service.prepareLogin(request, 'u');
    const reads = [vi.spyOn(repository, 'findOneBy'), vi.spyOn(repository, 'findOne')];
    try {
      expect((await service.track(request, 'u', refreshToken('jti-new'), session)).id).toBe(session.deviceId);
      expect(reads.map((read) => read.mock.calls.length)).toEqual([0, 0]);

      // The same write again, as a retry does when it cannot know whether its first attempt landed.
      expect((await service.track(request, 'u', refreshToken('jti-again'), session)).id).toBe(session.deviceId);
      expect(reads[0]).toHaveBeenCalled();
      expect(await service.list('u')).toEqual([
        expect.objectContaining({ id: session.deviceId, refreshTokenJti: storedId('jti-again') }),
      ]);
    } finally {
      reads.forEach((read) => read.mockRestore());
    }
  });

  it('lists most recently seen first', async () => {
    // Timestamps have millisecond precision; the clock keeps the three steps apart.
    const older = await service.track(fromDevice(), 'u', 'jti-a');
    clock.advance(10);
    const newer = await service.track(fromDevice(), 'u', 'jti-b');
    clock.advance(10);
    await service.rotateRefreshToken('jti-a', 'jti-c');

    expect((await service.list('u')).map((device) => device.id)).toEqual([older.id, newer.id]);
  });

  it('answers isRefreshTokenActive for a token, a jti, an unknown one and garbage', async () => {
    const device = await service.track(fromDevice(), 'u', refreshToken('jti-live'));

    expect(await service.isRefreshTokenActive(refreshToken('jti-live'))).toBe(true);
    expect(await service.isRefreshTokenActive('jti-live')).toBe(true);
    expect(await service.isRefreshTokenActive('jti-unknown')).toBe(false);
    expect(await service.isRefreshTokenActive('a.%%%.b')).toBe(false);
    expect(await service.isRefreshTokenActive('')).toBe(false);

    await service.logout('u', device.id);
    expect(await service.isRefreshTokenActive('jti-live')).toBe(false);
  });

  it('rotates an active refresh token, and refuses an unknown or logged-out one', async () => {
    const device = await service.track(fromDevice(), 'u', 'jti-1');

    const rotated = await service.rotateRefreshToken(refreshToken('jti-1'), refreshToken('jti-2'));
    expect(rotated).toMatchObject({ id: device.id, refreshTokenJti: storedId('jti-2') });
    const unknown = service.rotateRefreshToken('jti-never-issued', 'jti-3');
    await expect(unknown).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(unknown).rejects.toThrow('Invalid refresh token; sign in again');

    await service.logout('u', device.id);
    const loggedOut = service.rotateRefreshToken('jti-2', 'jti-4');
    await expect(loggedOut).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(loggedOut).rejects.toThrow('Refresh token has been revoked or already used');
    expect(await service.isRefreshTokenActive('jti-4')).toBe(false);
  });

  it('finds a refresh token stored under its digest alone (its jti, or 0.4) once the token carries its session', async () => {
    const device = await service.track(fromDevice(), 'u', 'jti-1');
    expect(device.refreshTokenJti).toBe(storedId('jti-1'));
    const inSession = (jti: string) => jwt.sign({ sub: 'u', sid: device.sessionId }, { jwtid: jti });

    expect(await service.isRefreshTokenActive(inSession('jti-1'))).toBe(true);
    const rotated = await service.rotateRefreshToken(inSession('jti-1'), inSession('jti-2'));
    // From now on under its session, at the end of the index.
    expect(rotated).toMatchObject({ id: device.id, refreshTokenJti: `${device.sessionId}/${storedId('jti-2')}` });
    expect(await service.isRefreshTokenActive(inSession('jti-2'))).toBe(true);
    expect(await service.isRefreshTokenActive(inSession('jti-1'))).toBe(false);

    // The replaced token, back after the grace period, is still recognised as reuse.
    clock.advance(60_000);
    await expect(service.rotateRefreshToken(inSession('jti-1'), inSession('jti-3'))).rejects.toThrow(
      'Refresh token has been revoked or already used',
    );
    expect(await service.findById(device.id)).toMatchObject({ isActive: false });
  });

  it('records where a refresh came from as the device last seen', async () => {
    const device = await service.track(fromDevice({}, '192.0.2.10'), 'u', 'jti-1');
    clock.advance(10);
    const rotated = await service.rotateRefreshToken('jti-1', 'jti-2', fromDevice({}, '198.51.100.7'));

    expect(rotated.ipAddress).toBe('198.51.100.7');
    expect(rotated.lastSeenAt.getTime()).toBeGreaterThanOrEqual(device.lastSeenAt.getTime());
    expect(rotated.lastSeenAt).toEqual(new Date(clock.now()));
    // Without the request, the address stays as it was.
    expect((await service.rotateRefreshToken('jti-2', 'jti-3')).ipAddress).toBe('198.51.100.7');
  });

  it('logs a device back in when the same device signs in again after a logout', async () => {
    const device = await service.track(fromDevice(), 'u', 'jti-1');
    await service.logout('u', device.id);
    const back = await service.track(fromDevice({ 'x-device-id': device.id }), 'u', 'jti-2');

    expect(back).toMatchObject({ id: device.id, isActive: true, revokedAt: null, refreshTokenJti: storedId('jti-2') });
  });

  it("keeps users apart: another user's device is not found, not changed", async () => {
    const theirs = await service.track(fromDevice(), 'owner', 'jti-owner');

    await expect(service.findOne('intruder', theirs.id)).rejects.toBeInstanceOf(NotFoundException);
    await expect(service.logout('intruder', theirs.id)).rejects.toBeInstanceOf(NotFoundException);
    await expect(service.logout('intruder', 'not-a-uuid')).rejects.toBeInstanceOf(NotFoundException);
    expect(await service.logoutOthers('intruder', theirs.id)).toBe(0);
    expect(await service.isRefreshTokenActive('jti-owner')).toBe(true);
  });

  it('treats user ids that differ only in case or trailing spaces as different users', async () => {
    const alice = await service.track(fromDevice(), 'alice', 'jti-alice');

    for (const lookalike of ['ALICE', 'Alice', 'alice ']) {
      expect(await service.list(lookalike)).toEqual([]);
      await expect(service.logout(lookalike, alice.id)).rejects.toBeInstanceOf(NotFoundException);
      expect(await service.logoutOthers(lookalike, randomUUID())).toBe(0);
    }
    expect(await service.isRefreshTokenActive('jti-alice')).toBe(true);
  });

  it('accepts device ids in any case', async () => {
    const device = await service.track(fromDevice(), 'u', 'jti-1');
    const again = await service.track(fromDevice({ 'x-device-id': device.id.toUpperCase() }), 'u', 'jti-2');

    expect(again.id).toBe(device.id);
    expect(await service.logoutOthers('u', device.id.toUpperCase())).toBe(0);
    expect(await service.logout('u', device.id.toUpperCase())).toMatchObject({ id: device.id, isActive: false });
  });

  it('rejects unusable arguments with 400s', async () => {
    await expect(service.track(fromDevice(), '', 'jti')).rejects.toBeInstanceOf(BadRequestException);
    await expect(service.list(Number.NaN)).rejects.toBeInstanceOf(BadRequestException);
    await expect(service.logoutOthers('u', 'nope')).rejects.toBeInstanceOf(BadRequestException);
  });
});

describe(`DeviceService with storeRefreshTokenId: 'digest' (${TEST_DB})`, () => {
  let app: INestApplication;
  let service: DeviceService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ storeRefreshTokenId: 'digest' }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    service = app.get(DeviceService);
  });

  afterAll(() => app?.close());

  it('stores a token of a session under its digest alone, as 0.4 did, and finds it by the token or its jti', async () => {
    const session = await service.prepareLogin(fromDevice(), 'u');
    const inSession = (jti: string) => jwt.sign({ sub: 'u', sid: session.sessionId }, { jwtid: jti });
    const device = await service.track(fromDevice(), 'u', inSession('jti-d1'), session);
    expect(device.refreshTokenJti).toBe(storedId('jti-d1'));
    expect(await service.isRefreshTokenActive('jti-d1')).toBe(true);

    const rotated = await service.rotateRefreshToken(inSession('jti-d1'), inSession('jti-d2'));
    // The replaced token too, so that 0.4 still tells a concurrent refresh from a replay.
    expect(rotated).toMatchObject({
      id: device.id,
      refreshTokenJti: storedId('jti-d2'),
      previousRefreshTokenJti: storedId('jti-d1'),
    });
    expect(await service.isRefreshTokenActive('jti-d2')).toBe(true);
  });
});
