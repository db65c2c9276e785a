import type { INestApplication, LoggerService } from '@nestjs/common';
import { createApp } from '../../sample-app/src/bootstrap.js';
import { loadConfig, type SampleConfig } from '../../sample-app/src/config.js';
import { testDatabaseOptions } from './database.js';
import { initTestApp, PLATFORM } from './platform.js';

/**
 * The sample app on the test database and the platform under test, initialised and ready for supertest. Silent,
 * unless given a `logger` (a `LogCollector`, for a suite that checks what the app logs).
 */
export async function startSampleApp(
  overrides: Partial<SampleConfig> = {},
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  const config: SampleConfig = { ...loadConfig({}), platform: PLATFORM, database: testDatabaseOptions(), ...overrides };
  return initTestApp(await createApp(config, { logger }));
}

/** The sample app listening on a free loopback port, for a real browser: the app and its base URL. */
export async function serveSampleApp(): Promise<{ app: INestApplication; base: string }> {
  const app = await startSampleApp();
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}
