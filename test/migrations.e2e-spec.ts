import { DEVICE_TRACKER_MIGRATIONS, DEVICES_TABLE, Device } from 'nestjs-device-tracker';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DB, testDatabaseOptions } from './support/database.js';

describe(`DEVICE_TRACKER_MIGRATIONS (${TEST_DB})`, () => {
  const dataSource = new DataSource({
    ...testDatabaseOptions(),
    entities: [Device],
    migrations: DEVICE_TRACKER_MIGRATIONS,
  });

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  it('create exactly the schema the entity describes, and revert cleanly', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((migration) => migration.name)).toEqual(DEVICE_TRACKER_MIGRATIONS.map((m) => m.name));

    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);

    for (const _ of DEVICE_TRACKER_MIGRATIONS) await dataSource.undoLastMigration();
    const queryRunner = dataSource.createQueryRunner();
    try {
      expect(await queryRunner.hasTable(DEVICES_TABLE)).toBe(false);
    } finally {
      await queryRunner.release();
    }
  });
});
