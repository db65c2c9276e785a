import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Device,
  DeviceService,
  DeviceTrackerClock,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
  TrackingRetrier,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type Repository } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceStore } from '../lib/persistence/device.store.js';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { eventually } from './support/eventually.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestApp } from './support/platform.js';
import { sidOf } from './support/token-claims.js';

const dropped = () => new Error('connection terminated unexpectedly');
/** The wait before a failed login's first retry (trackingRetries: 250 ms, then doubling). */
const FIRST_RETRY = 250;

describe(`retried tracking writes (${TEST_DB})`, () => {
  let app: INestApplication | undefined;
  let devices: Repository<Device>;
  /** Where a login's write goes: its failures are simulated there. */
  let store: DeviceStore;
  /** The app's time: the retries wait on it, and run when the test moves it on. */
  let clock: ManualClock;
  afterEach(async () => {
    vi.restoreAllMocks();
    await app?.close();
    app = undefined;
  });

  async function start(options: DeviceTrackerModuleOptions = {}) {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot(options))],
    })
      .overrideProvider(DeviceTrackerClock)
      .useValue(clock)
      .compile();
    app = await startTestApp(moduleRef, { logger: false });
    devices = app.get(DataSource).getRepository(Device);
    store = app.get(DeviceStore);
    return app.get(TrackingRetrier);
  }
  const http = () => request(app!.getHttpServer());
  const login = (userId: string, deviceId?: string) =>
    http()
      .post('/login')
      .set(deviceId ? { 'x-device-id': deviceId } : {})
      .send({ userId })
      .expect(200);
  const listWith = (token: string) => http().get('/devices').auth(token, { type: 'bearer' });

  it('answers 503, not "logged out", for a login whose device is still waiting to be written', async () => {
    const retrier = await start();
    vi.spyOn(store, 'insert').mockRejectedValueOnce(dropped());
    const pending = await login('u1');

    const answer = await listWith(pending.body.access_token).expect(503);
    expect(answer.body.message).toMatch(/still being recorded/);
    clock.advance(FIRST_RETRY);
    expect(await eventually(() => retrier.stats().recovered === 1)).toBe(true);
    await listWith(pending.body.access_token).expect(200);
  });

  it('never brings back a device the user logged out while its login waited for a retry', async () => {
    const retrier = await start();
    const first = await login('u1');
    const deviceId = first.headers['x-device-id'];
    vi.spyOn(store, 'updateOwned').mockRejectedValueOnce(dropped());
    clock.advance(1); // a moment after the first login, as on a real clock
    const waiting = await login('u1', deviceId); // its write fails and waits for a retry

    await app!.get(DeviceService).logoutAll('u1'); // e.g. after a password change
    clock.advance(600); // past the first retry
    expect(retrier.stats()).toMatchObject({ failed: 1, recovered: 0, abandoned: 1, pending: 0 });
    expect((await devices.findOneByOrFail({ id: deviceId })).isActive).toBe(false);
    await listWith(waiting.body.access_token).expect(401);
  });

  it('never brings back a session a newer login of the device replaced, even when the first write did land', async () => {
    const retrier = await start();
    const first = await login('u1');
    const deviceId = first.headers['x-device-id'];
    // The write commits, then the connection drops before its answer: the login only knows it failed.
    const update = store.updateOwned.bind(store);
    vi.spyOn(store, 'updateOwned').mockImplementationOnce(async (...args) => {
      await update(...args);
      throw dropped();
    });
    clock.advance(1); // each login a moment after the one before, as on a real clock
    const waiting = await login('u1', deviceId);
    clock.advance(1);
    const newer = await login('u1', deviceId); // the same device signs in again before the retry

    clock.advance(FIRST_RETRY);
    expect(await eventually(() => retrier.stats().pending === 0)).toBe(true);
    expect(retrier.stats()).toMatchObject({ failed: 1, recovered: 0, abandoned: 1 });
    expect((await devices.findOneByOrFail({ id: deviceId })).sessionId).toBe(sidOf(newer.body.access_token));
    await listWith(newer.body.access_token).expect(200);
    await listWith(waiting.body.access_token).expect(401);
  });

  it('waits for a retry already being written before logging the device out, so it cannot bring it back', async () => {
    const retrier = await start();
    const first = await login('u1');
    const deviceId = first.headers['x-device-id'];
    const update = store.updateOwned.bind(store);
    let writing: () => void;
    const retryWriting = new Promise<void>((resolve) => (writing = resolve));
    let release: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(store, 'updateOwned')
      .mockRejectedValueOnce(dropped())
      .mockImplementationOnce(async (...args) => {
        writing();
        await released;
        return update(...args);
      });
    clock.advance(1); // a moment after the first login, as on a real clock
    const waiting = await login('u1', deviceId); // its write fails; its retry is then held mid-write
    clock.advance(FIRST_RETRY);
    await retryWriting;

    const cancel = vi.spyOn(retrier, 'cancel');
    const loggedOut = app!.get(DeviceService).logoutAll('u1');
    // The write stays held until the logout is seen waiting for it (its cancel of the retries still unsettled once
    // the event loop has turned), or, had the logout gone on without waiting, until that logout has finished.
    await vi.waitFor(() => expect(cancel).toHaveBeenCalledOnce());
    let wentOn = false;
    void cancel.mock.results[0]!.value.then(() => (wentOn = true));
    await new Promise((resolve) => setImmediate(resolve));
    if (wentOn) await loggedOut;
    release!();
    await loggedOut;

    expect(retrier.stats()).toMatchObject({ failed: 1, abandoned: 1, pending: 0 });
    expect((await devices.findOneByOrFail({ id: deviceId })).isActive).toBe(false);
    await listWith(waiting.body.access_token).expect(401);
  });

  it('does not retry a write that is refused for good, such as one device too many', async () => {
    const retrier = await start({ maxDevices: { limit: 1, policy: 'reject' } });
    await login('u1');
    // The limit check before the handler cannot read the database, and the first write fails: a retry is due.
    vi.spyOn(devices, 'find').mockRejectedValueOnce(dropped());
    const inserts = vi.spyOn(store, 'insert').mockRejectedValueOnce(dropped());
    await login('u1');

    // The retry writes the device, finds one too many, undoes it, and gives up instead of trying again.
    clock.advance(FIRST_RETRY);
    expect(await eventually(() => retrier.stats().abandoned === 1)).toBe(true);
    expect(retrier.stats()).toMatchObject({ failed: 1, recovered: 0, pending: 0 });
    expect(inserts).toHaveBeenCalledTimes(2);
    expect(await devices.countBy({ userId: 'u1' })).toBe(1);
  });

  it('starts no retry once the app is closing, and counts what it gave up', async () => {
    const retrier = await start();
    vi.spyOn(store, 'insert').mockRejectedValue(dropped());
    await login('u1');
    expect(retrier.stats().pending).toBe(1);

    await app!.close();
    app = undefined;
    expect(retrier.stats()).toMatchObject({ pending: 0, abandoned: 1, recovered: 0 });
    clock.advance(400);
    expect(retrier.stats().pending).toBe(0);
  });
});
