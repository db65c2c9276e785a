import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLE = 'device_tracker_devices';

/**
 * Creates the devices table and its indexes. Written with TypeORM's schema API rather than SQL so the one migration
 * serves SQLite, PostgreSQL and MySQL/MariaDB; the types are the driver's own names for a UUID, a string and a date.
 */
export class CreateDeviceTrackerDevices1764000000000 implements MigrationInterface {
  name = 'CreateDeviceTrackerDevices1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection;
    const varchar = driver.normalizeType({ type: String });
    const date = driver.normalizeType({ type: Date });
    const boolean = driver.normalizeType({ type: Boolean });
    const text = (name: string, length: number, isNullable = false) => ({
      name,
      type: varchar,
      length: String(length),
      isNullable,
    });
    // MySQL's default collations ignore case: 'Alice' would match 'alice''s devices. (DeviceService also compares
    // owners exactly, for trailing spaces and for tables made by `synchronize`.)
    const isMysql = ['mysql', 'mariadb'].includes(driver.options.type);
    const exact = isMysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    const time = (name: string, isNullable = false) => ({ name, type: date, precision: 3, isNullable });

    await queryRunner.createTable(
      new Table({
        name: TABLE,
        columns: [
          { name: 'id', type: driver.normalizeType({ type: 'uuid' }), isPrimary: true },
          { ...text('user_id', 128), ...exact },
          text('user_agent', 512),
          text('device_name', 255),
          text('browser', 64, true),
          text('os', 64, true),
          text('device_type', 16),
          text('ip_address', 45, true),
          text('refresh_token_jti', 255, true),
          { name: 'is_active', type: boolean },
          time('created_at'),
          time('last_login_at'),
          time('last_seen_at'),
          time('revoked_at', true),
        ],
        indices: [
          new TableIndex({ name: 'IDX_device_tracker_devices_user_seen', columnNames: ['user_id', 'last_seen_at'] }),
          new TableIndex({
            name: 'UQ_device_tracker_devices_refresh_jti',
            columnNames: ['refresh_token_jti'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(TABLE);
  }
}
