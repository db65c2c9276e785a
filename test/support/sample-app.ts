import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Clock, DeviceTrackerClock } from 'nestjs-device-tracker';
import request from 'supertest';
import { AppModule } from '../../sample-app/src/app.module.js';
import { configureApp, createApp } from '../../sample-app/src/bootstrap.js';
import { createHttpAdapter } from '../../sample-app/src/http-adapter.js';
import { loadConfig, type SampleConfig } from '../../sample-app/src/config.js';
import { testDatabaseOptions } from './database.js';
import { initTestApp, PLATFORM } from './platform.js';

/**
 * The sample app on the test database and the platform under test, initialised and ready for supertest. Silent,
 * unless given a `logger` (a `LogCollector`, for a suite that checks what the app logs); on `clock`'s time when given
 * one (a `ManualClock`).
 */
export async function startSampleApp(
  overrides: Partial<SampleConfig> = {},
  logger: LoggerService | false = false,
  clock?: Clock,
): Promise<INestApplication> {
  const config: SampleConfig = { ...loadConfig({}), platform: PLATFORM, database: testDatabaseOptions(), ...overrides };
  if (!clock) return initTestApp(await createApp(config, { logger }));
  // The same app, built by a testing module, which can put the clock in.
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
    .overrideProvider(DeviceTrackerClock)
    .useValue(clock)
    .compile();
  const adapter = createHttpAdapter(config.platform, config.trustProxy);
  return initTestApp(configureApp(moduleRef.createNestApplication(adapter, { logger })));
}

/** The sample app listening on a free loopback port, for a real browser: the app and its base URL. */
export async function serveSampleApp(): Promise<{ app: INestApplication; base: string }> {
  const app = await startSampleApp();
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}

/** What a sign-in to the sample app hands back: its tokens and the device id it answered with. */
export interface SampleLogin {
  access: string;
  refresh: string;
  deviceId: string;
}

/** Signs a demo user in to the sample app over HTTP (their password is `<name>-password`), with extra headers. */
export async function signInToSample(
  app: INestApplication,
  username: string,
  headers: Record<string, string> = {},
): Promise<SampleLogin> {
  const { body, headers: answered } = await request(app.getHttpServer())
    .post('/auth/login')
    .set(headers)
    .send({ username, password: `${username}-password` })
    .expect(200);
  return { access: body.access_token, refresh: body.refresh_token, deviceId: answered['x-device-id'] };
}
