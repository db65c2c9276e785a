import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateSampleUsers1764000000100 implements MigrationInterface {
  name = 'CreateSampleUsers1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const varchar = queryRunner.connection.driver.normalizeType({ type: String });
    await queryRunner.createTable(
      new Table({
        name: 'sample_users',
        columns: [
          {
            name: 'id',
            type: queryRunner.connection.driver.normalizeType({ type: Number }),
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'username', type: varchar, length: '64', isUnique: true },
          { name: 'password_hash', type: varchar, length: '255' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sample_users');
  }
}
