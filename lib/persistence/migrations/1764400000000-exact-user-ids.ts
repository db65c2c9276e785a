import type { MigrationInterface, QueryRunner } from 'typeorm';
import { exactCollation } from './exact-collation.js';

const TABLE = 'device_tracker_devices';

/**
 * MySQL/MariaDB only: makes `user_id` compare trailing spaces too (a NO PAD binary collation), so that a page of
 * 'carol''s devices cannot be filled with rows of 'carol '. The first migration made it binary, which still pads.
 */
export class ExactUserIds1764400000000 implements MigrationInterface {
  name = 'ExactUserIds1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { collation } = await exactCollation(queryRunner);
    if (collation) await this.collate(queryRunner, collation);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { collation } = await exactCollation(queryRunner);
    if (collation) await this.collate(queryRunner, 'utf8mb4_bin');
  }

  private collate(queryRunner: QueryRunner, collation: string): Promise<unknown> {
    return queryRunner.query(
      `ALTER TABLE \`${TABLE}\` MODIFY \`user_id\` varchar(128) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`,
    );
  }
}
