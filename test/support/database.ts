import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS } from 'nestjs-device-tracker';
import type { DataSourceOptions } from 'typeorm';
import { databaseOptions } from '../../sample-app/src/config.js';
import { testDatabaseUrl } from './database-url.js';

export { TEST_DB } from './database-url.js';

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
