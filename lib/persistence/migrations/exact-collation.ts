import type { QueryRunner } from 'typeorm';

/**
 * On MySQL and MariaDB, the column options that make string comparisons exact: binary (case counts) and NO PAD
 * (trailing spaces count), where the server has such a collation (MariaDB 10.2+, MySQL 8); binary otherwise. On
 * other databases, none are needed. Shared by the migrations: never change what it returns for a given server.
 */
export async function exactCollation(queryRunner: QueryRunner): Promise<{ charset?: string; collation?: string }> {
  if (!['mysql', 'mariadb'].includes(queryRunner.connection.driver.options.type)) return {};
  const rows: { Collation: string }[] = await queryRunner.query(
    "SHOW COLLATION WHERE Collation IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')",
  );
  return { charset: 'utf8mb4', collation: rows[0]?.Collation ?? 'utf8mb4_bin' };
}
