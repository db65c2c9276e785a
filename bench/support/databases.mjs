import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Drops and creates the PostgreSQL database of `url`, whose name must say "bench": the benchmarks empty it. */
export async function recreatePostgresDatabase(url) {
  const name = new URL(url).pathname.slice(1);
  if (!name.includes('bench')) {
    throw new Error(`the benchmark database must have "bench" in its name: it is emptied (got ${url})`);
  }
  await withPostgres(Object.assign(new URL(url), { pathname: '/postgres' }).toString(), async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  });
}

export async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function withSqlite(file, work) {
  const db = new Database(file);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** The versions of the servers a run used, for the results. */
export async function serverVersions({ postgresUrl, sqliteFile, redisUrl }) {
  const postgres = await withPostgres(
    postgresUrl,
    async (client) => (await client.query('SHOW server_version')).rows[0],
  );
  const sqlite = withSqlite(sqliteFile, (db) => db.prepare('SELECT sqlite_version() AS version').get().version);
  const redis = new Redis(redisUrl);
  const info = await redis.info('server');
  redis.disconnect();
  return {
    postgres: postgres.server_version,
    sqlite,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
  };
}
