import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLE = 'device_tracker_devices';

/**
 * Index for the admin listing's IP filter: every user's devices last seen from an address, most recently seen first
 * (the user and date filters have theirs already).
 */
export class AddDeviceIpIndex1764500000000 implements MigrationInterface {
  name = 'AddDeviceIpIndex1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      TABLE,
      new TableIndex({ name: 'IDX_device_tracker_devices_ip_seen', columnNames: ['ip_address', 'last_seen_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, 'IDX_device_tracker_devices_ip_seen');
  }
}
