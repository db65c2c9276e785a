import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { exactCollation } from './exact-collation.js';

const TABLE = 'device_tracker_devices';

/**
 * Adds the login session of each device (the `sid` claim of its tokens, or its express-session id) and what
 * refresh-token reuse detection needs: the token the current one replaced and when, and the token a concurrent
 * refresh was given.
 */
export class AddDeviceSessions1764200000000 implements MigrationInterface {
  name = 'AddDeviceSessions1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection;
    const varchar = driver.normalizeType({ type: String });
    // express-session ids are case-sensitive; MySQL's default collations are not.
    const exact = await exactCollation(queryRunner);
    await queryRunner.addColumns(TABLE, [
      new TableColumn({ name: 'session_id', type: varchar, length: '255', isNullable: true, ...exact }),
      new TableColumn({ name: 'previous_refresh_token_jti', type: varchar, length: '255', isNullable: true }),
      new TableColumn({ name: 'concurrent_refresh_token_jti', type: varchar, length: '255', isNullable: true }),
      new TableColumn({
        name: 'refresh_token_rotated_at',
        type: driver.normalizeType({ type: Date }),
        precision: 3,
        isNullable: true,
      }),
    ]);
    await queryRunner.createIndices(TABLE, [
      new TableIndex({ name: 'UQ_device_tracker_devices_session', columnNames: ['session_id'], isUnique: true }),
      new TableIndex({
        name: 'IDX_device_tracker_devices_previous_jti',
        columnNames: ['previous_refresh_token_jti'],
      }),
      new TableIndex({
        name: 'IDX_device_tracker_devices_concurrent_jti',
        columnNames: ['concurrent_refresh_token_jti'],
      }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, 'IDX_device_tracker_devices_concurrent_jti');
    await queryRunner.dropIndex(TABLE, 'IDX_device_tracker_devices_previous_jti');
    await queryRunner.dropIndex(TABLE, 'UQ_device_tracker_devices_session');
    await queryRunner.dropColumns(TABLE, [
      'refresh_token_rotated_at',
      'concurrent_refresh_token_jti',
      'previous_refresh_token_jti',
      'session_id',
    ]);
  }
}
