import { Logger } from '@nestjs/common';
import { type DataSource, Migration, MigrationExecutor } from 'typeorm';
// Not in TypeORM's index: the builder a DataSource uses for its own entities, here for one more.
import { ConnectionMetadataBuilder } from 'typeorm/connection/ConnectionMetadataBuilder.js';
import { DEVICES_TABLE, LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { Device } from './device.entity.js';
import { DEVICE_TRACKER_MIGRATIONS } from './migrations/index.js';
import { warnIfNotUtc } from './time-zone-check.js';

/** Injection token of "the devices table is ready": the store waits for it. Internal. */
export const DEVICE_TABLE = Symbol('DEVICE_TABLE');

/** The module's own migrations table, so its migrations never mix with the host's. */
export const MIGRATIONS_TABLE = 'device_tracker_migrations';

const OUR_MIGRATIONS = new Set(DEVICE_TRACKER_MIGRATIONS.map((migration) => migration.name));

/** TypeORM's executor, on the module's migrations and migrations table rather than the host's. */
class DeviceTrackerMigrationExecutor extends MigrationExecutor {
  constructor(dataSource: DataSource) {
    super(dataSource);
    // TypeORM reads both from the DataSource's options and keeps them private: set them as it would.
    Object.assign(this, { migrationsTableName: MIGRATIONS_TABLE, migrationsTable: this.qualified(MIGRATIONS_TABLE) });
  }

  /**
   * An app that ran the module's migrations in its own migrations table, and now leaves them to the module, has the
   * devices table already: record those runs in the module's table, so they are not run a second time.
   */
  async adoptRunsOf(hostTableName: string): Promise<void> {
    await this.withQueryRunner(async (queryRunner) => {
      if (await queryRunner.hasTable(this.qualified(MIGRATIONS_TABLE))) return;
      const hostTable = this.qualified(hostTableName);
      const hostRuns: { name: string }[] = (await queryRunner.hasTable(hostTable))
        ? await queryRunner.manager
            .createQueryBuilder()
            .select('runs.name', 'name')
            .from(hostTable, 'runs')
            .getRawMany()
        : [];
      const ran = new Set(hostRuns.map((run) => run.name));
      const adopted = this.getMigrations().filter((migration) => ran.has(migration.name));
      if (adopted.length === 0 && (await queryRunner.hasTable(this.qualified(DEVICES_TABLE)))) {
        // Made some other way (a CLI DataSource, another migrations table): running the first migration would fail.
        throw new Error(
          `DeviceTrackerModule: the table ${DEVICES_TABLE} exists but no run of its migrations is recorded in ` +
            `${hostTableName} or ${MIGRATIONS_TABLE}: ` +
            'set runMigrations: false if you run DEVICE_TRACKER_MIGRATIONS yourself',
        );
      }
      await this.createMigrationsTableIfNotExist(queryRunner);
      for (const migration of adopted) await this.insertExecutedMigration(queryRunner, migration);
    });
  }

  /** `table` as the executor names its own: in the connection's schema and database. */
  private qualified(table: string): string {
    const { schema } = this.dataSource.driver.options as { schema?: string };
    return this.dataSource.driver.buildTableName(table, schema, this.dataSource.driver.database);
  }

  protected override getMigrations(): Migration[] {
    return DEVICE_TRACKER_MIGRATIONS.map(
      (Class) => new Migration(undefined, Number(Class.name.slice(-13)), Class.name, new Class()),
    );
  }
}

/**
 * Makes the host's default connection know the `Device` entity (without `autoLoadEntities`, `forFeature()` alone
 * registers it nowhere) and, with `runMigrations`, brings its table up to date. The migrations are left to the host
 * when its connection lists them, or synchronises a schema that already has the entity.
 */
export async function prepareDeviceTable(dataSource: DataSource, options: ResolvedDeviceTrackerOptions): Promise<true> {
  warnIfNotUtc(dataSource);
  const known = dataSource.hasMetadata(Device);
  if (!known) {
    const [metadata] = await new ConnectionMetadataBuilder(dataSource).buildEntityMetadatas([Device]);
    dataSource.entityMetadatas.push(metadata!);
    dataSource.entityMetadatasMap.set(Device, metadata!);
  }
  const hostMigrates = dataSource.migrations.some((migration) => OUR_MIGRATIONS.has(migration.constructor.name));
  if (!options.runMigrations || hostMigrates || (known && dataSource.options.synchronize)) return true;
  const executor = new DeviceTrackerMigrationExecutor(dataSource);
  await executor.adoptRunsOf(dataSource.options.migrationsTableName ?? 'migrations');
  const ran = await executor.executePendingMigrations();
  if (ran.length > 0) {
    new Logger(LOGGER_CONTEXT).log(`Brought the devices table up to date: ${ran.map((m) => m.name).join(', ')}`);
  }
  return true;
}
