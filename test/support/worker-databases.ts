import { availableParallelism } from 'node:os';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { serverDatabaseUrl, TEST_DB, workerDatabaseUrl } from './database-url.js';

/**
 * vitest globalSetup: on a database server (`DB=postgres` or `DB=mariadb`), one database per worker, `<database>_w1`
 * … `<database>_w<maxWorkers>`, so that test files run in parallel without sharing tables. Each is dropped first (a
 * database an aborted run left behind starts empty) and again once the run is over. SQLite needs none: every app
 * has its own database in memory.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (TEST_DB === 'sqlite') return undefined;
  const workers = project.globalConfig.maxWorkers || Math.max(availableParallelism() - 1, 1);
  const names = Array.from({ length: workers }, (_, index) => {
    const url = new URL(workerDatabaseUrl(serverDatabaseUrl(), index + 1));
    return decodeURIComponent(url.pathname.slice(1));
  });
  const server = TEST_DB === 'postgres' ? postgres : mariadb;
  await server.run(names.flatMap((name) => [server.drop(name), server.create(name)]));
  return () => server.run(names.map((name) => server.drop(name)));
}

interface Server {
  create(name: string): string;
  drop(name: string): string;
  /** Runs the statements one after the other, on a connection to no database of the tests'. */
  run(statements: string[]): Promise<void>;
}

const quotePostgres = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteMariadb = (name: string) => `\`${name.replaceAll('`', '``')}\``;

const postgres: Server = {
  create: (name) => `CREATE DATABASE ${quotePostgres(name)}`,
  drop: (name) => `DROP DATABASE IF EXISTS ${quotePostgres(name)} WITH (FORCE)`,
  async run(statements) {
    // The server's maintenance database.
    const url = new URL(serverDatabaseUrl());
    url.pathname = '/postgres';
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  },
};

const mariadb: Server = {
  create: (name) => `CREATE DATABASE ${quoteMariadb(name)}`,
  drop: (name) => `DROP DATABASE IF EXISTS ${quoteMariadb(name)}`,
  async run(statements) {
    const url = new URL(serverDatabaseUrl().replace(/^mariadb:/, 'mysql:'));
    url.pathname = '/';
    const connection = await mysql.createConnection(url.toString());
    try {
      for (const statement of statements) await connection.query(statement);
    } finally {
      await connection.end();
    }
  },
};
