import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Statement } from './login-statements.js';

/** What is used of better-sqlite3's connection, pg's pool and mysql2's pool: their own types stay optional peers. */
interface SqliteDatabase {
  prepare(sql: string): { run(parameters: unknown[]): { changes: number } };
}
interface PgPool {
  query(sql: string, parameters: unknown[]): Promise<{ rowCount: number | null }>;
}
interface MysqlPool {
  query(
    sql: string,
    parameters: unknown[],
    callback: (error: Error | null, result?: { affectedRows?: number }) => void,
  ): void;
}

/** Most statements of better-sqlite3 kept prepared: one per number of rows a batch inserts, and the update. */
const PREPARED = 64;

/**
 * Runs a login's statements ({@link LoginStatements}) as the host's TypeORM connection would, through the driver's own
 * connection: a statement better-sqlite3 prepared once, or a query on the pg or mysql2 pool TypeORM made. Asking
 * TypeORM for a query runner first (a pool connection, events, logging) cost as much as the statement itself. Other
 * drivers, and a MySQL connection with replicas, go through a TypeORM query runner. TypeORM's query logging does not
 * see these statements.
 */
@Injectable()
export class StatementRunner {
  private readonly prepared = new Map<string, ReturnType<SqliteDatabase['prepare']>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `statement` and answers how many rows it changed. */
  run(statement: Statement): Promise<number> {
    const driver = this.dataSource.driver as { options: { type: string }; databaseConnection?: unknown };
    switch (driver.options.type) {
      case 'better-sqlite3':
        return this.runOnSqlite(driver.databaseConnection as SqliteDatabase, statement);
      case 'postgres': {
        const pool = (driver as { master?: PgPool }).master;
        if (pool) return pool.query(statement.sql, statement.parameters).then((result) => result.rowCount ?? 0);
        break;
      }
      case 'mysql':
      case 'mariadb': {
        const pool = (driver as { pool?: MysqlPool }).pool;
        if (pool) return runOnMysql(pool, statement);
        break;
      }
    }
    return this.runOnQueryRunner(statement);
  }

  private runOnSqlite(database: SqliteDatabase, { sql, parameters }: Statement): Promise<number> {
    try {
      let prepared = this.prepared.get(sql);
      if (!prepared) {
        if (this.prepared.size >= PREPARED) this.prepared.clear();
        this.prepared.set(sql, (prepared = database.prepare(sql)));
      }
      // An array binds its items in order, without spreading hundreds of arguments into the call.
      return Promise.resolve(prepared.run(parameters).changes);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private async runOnQueryRunner({ sql, parameters }: Statement): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(sql, parameters, true)).affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}

function runOnMysql(pool: MysqlPool, { sql, parameters }: Statement): Promise<number> {
  return new Promise((resolve, reject) =>
    pool.query(sql, parameters, (error, result) => (error ? reject(error) : resolve(result?.affectedRows ?? 0))),
  );
}
