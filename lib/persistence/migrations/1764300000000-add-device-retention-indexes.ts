import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLE = 'device_tracker_devices';

/** Indexes for pruning: devices not seen since a date, and devices logged out before one. */
export class AddDeviceRetentionIndexes1764300000000 implements MigrationInterface {
  name = 'AddDeviceRetentionIndexes1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndices(TABLE, [
      new TableIndex({ name: 'IDX_device_tracker_devices_seen', columnNames: ['last_seen_at'] }),
      new TableIndex({ name: 'IDX_device_tracker_devices_revoked', columnNames: ['revoked_at'] }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, 'IDX_device_tracker_devices_revoked');
    await queryRunner.dropIndex(TABLE, 'IDX_device_tracker_devices_seen');
  }
}
