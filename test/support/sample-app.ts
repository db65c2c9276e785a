import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../sample-app/src/bootstrap.js';
import { loadConfig, type SampleConfig } from '../../sample-app/src/config.js';
import { testDatabaseOptions } from './database.js';

/** The sample app on the test database, initialised and ready for supertest. */
export async function startSampleApp(overrides: Partial<SampleConfig> = {}): Promise<INestApplication> {
  const config: SampleConfig = { ...loadConfig({}), database: testDatabaseOptions(), ...overrides };
  const app = await createApp(config, { logger: false });
  await app.init();
  return app;
}
