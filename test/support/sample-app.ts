import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../sample-app/src/bootstrap.js';
import { loadConfig, type SampleConfig } from '../../sample-app/src/config.js';
import { testDatabaseOptions } from './database.js';
import { initTestApp, PLATFORM } from './platform.js';

/** The sample app on the test database and the platform under test, initialised and ready for supertest. */
export async function startSampleApp(overrides: Partial<SampleConfig> = {}): Promise<INestApplication> {
  const config: SampleConfig = { ...loadConfig({}), platform: PLATFORM, database: testDatabaseOptions(), ...overrides };
  return initTestApp(await createApp(config, { logger: false }));
}
