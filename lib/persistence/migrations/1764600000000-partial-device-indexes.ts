import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLE = 'device_tracker_devices';

/** The indexes of columns that stay NULL on most rows, and the condition that leaves those rows out. */
const SPARSE = [
  ['IDX_device_tracker_devices_revoked', 'revoked_at'],
  ['IDX_device_tracker_devices_previous_jti', 'previous_refresh_token_jti'],
  ['IDX_device_tracker_devices_concurrent_jti', 'concurrent_refresh_token_jti'],
] as const;

/** The databases whose indexes take a `WHERE`; MySQL and MariaDB index every row whatever TypeORM is told. */
const PARTIAL_INDEXES = new Set(['postgres', 'cockroachdb', 'better-sqlite3', 'sqlite', 'sqljs', 'capacitor', 'expo']);

/**
 * Leaves NULLs out of the indexes of the replaced and concurrent refresh tokens and of the logout time. Every query on
 * them asks for a value (`=` or `<`), and a new login's row has none of the three: it no longer goes into three
 * indexes that no query reads it from, and the indexes shrink to the rows that use them.
 */
export class PartialDeviceIndexes1764600000000 implements MigrationInterface {
  name = 'PartialDeviceIndexes1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.recreate(queryRunner, (column) => `${column} IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.recreate(queryRunner, () => undefined);
  }

  private async recreate(queryRunner: QueryRunner, where: (column: string) => string | undefined): Promise<void> {
    if (!PARTIAL_INDEXES.has(queryRunner.connection.driver.options.type)) return;
    for (const [name, column] of SPARSE) {
      await queryRunner.dropIndex(TABLE, name);
      await queryRunner.createIndex(TABLE, new TableIndex({ name, columnNames: [column], where: where(column) }));
    }
  }
}
