import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Who may use the admin panel. Every existing user starts as a plain user. */
export class AddSampleUserAdminFlag1764500000100 implements MigrationInterface {
  name = 'AddSampleUserAdminFlag1764500000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'sample_users',
      new TableColumn({
        name: 'is_admin',
        type: queryRunner.connection.driver.normalizeType({ type: Boolean }),
        // `false` is valid SQL on PostgreSQL, MySQL/MariaDB and SQLite alike.
        default: 'false',
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sample_users', 'is_admin');
  }
}
