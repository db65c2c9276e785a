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

  /** Indexes whose NULLs PartialDeviceIndexes1764600000000 leaves out, where the database can. */
  const SPARSE_INDEXES = [
    'IDX_device_tracker_devices_revoked',
    'IDX_device_tracker_devices_previous_jti',
    'IDX_device_tracker_devices_concurrent_jti',
  ];

  /** The definition the database keeps of `index`: its SQL on SQLite and PostgreSQL; none on MariaDB. */
  async function indexDefinition(index: string): Promise<string | undefined> {
    if (TEST_DB === 'postgres') {
      const [row] = await dataSource.query('SELECT indexdef AS sql FROM pg_indexes WHERE indexname = $1', [index]);
      return row?.sql;
    }
    if (TEST_DB === 'sqlite') {
      const [row] = await dataSource.query('SELECT sql FROM sqlite_master WHERE name = ?', [index]);
      return row?.sql;
    }
    return undefined;
  }

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  it('create exactly the schema the entity describes, and revert cleanly', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((migration) => migration.name)).toEqual(DEVICE_TRACKER_MIGRATIONS.map((m) => m.name));

    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    // TypeORM's schema builder does not compare an index's WHERE: read the indexes as the database made them.
    const definitions = await Promise.all(SPARSE_INDEXES.map(indexDefinition));
    const partial = definitions.map((sql) => sql === undefined || / WHERE .*IS NOT NULL/i.test(sql));
    expect({ partial, known: definitions.some((sql) => sql !== undefined) }).toEqual({
      partial: [true, true, true],
      known: TEST_DB !== 'mariadb',
    });

    for (const _ of DEVICE_TRACKER_MIGRATIONS) await dataSource.undoLastMigration();
    const queryRunner = dataSource.createQueryRunner();
    try {
      expect(await queryRunner.hasTable(DEVICES_TABLE)).toBe(false);
    } finally {
      await queryRunner.release();
    }
  });
});
