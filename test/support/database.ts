import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS } from 'nestjs-device-tracker';
import type { DataSourceOptions } from 'typeorm';
import { databaseOptions } from '../../sample-app/src/config.js';

/** `DB` picks the database the e2e suites run on; each server's URL can be overridden for CI. */
const URLS: Record<string, () => string> = {
  sqlite: () => 'sqlite::memory:',
  postgres: () => process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mariadb: () => process.env.MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/test',
};

export const TEST_DB = process.env.DB ?? 'sqlite';

export function testDatabaseUrl(): string {
  const url = URLS[TEST_DB];
  if (!url) throw new Error(`DB must be one of ${Object.keys(URLS).join(', ')} (got ${TEST_DB})`);
  return url();
}

/** A database emptied before use: every suite starts from the migrations. */
export function testDatabaseOptions(): DataSourceOptions {
  return { ...databaseOptions(testDatabaseUrl()), dropSchema: true };
}

/** The host's TypeORM connection in the fixture apps: the test database (or `database`), migrated by the module. */
export function testTypeOrmModule(database: DataSourceOptions = testDatabaseOptions()): DynamicModule {
  return TypeOrmModule.forRoot({
    ...database,
    autoLoadEntities: true,
    migrations: DEVICE_TRACKER_MIGRATIONS,
    migrationsRun: true,
  });
}
