// The database the e2e suites run on, by URL: apart from database.ts, which loads the library, for the vitest
// globalSetup (test/support/worker-databases.ts) runs outside the workers, where `reflect-metadata` is not loaded.

/** `DB` picks the database the e2e suites run on; each server's URL can be overridden for CI. */
const URLS: Record<string, () => string> = {
  sqlite: () => 'sqlite::memory:',
  postgres: () => process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mariadb: () => process.env.MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/test',
};

export const TEST_DB = process.env.DB ?? 'sqlite';

/** The server's URL as given (`POSTGRES_URL`, `MARIADB_URL` or the default): its database names the workers' ones. */
export function serverDatabaseUrl(): string {
  const url = URLS[TEST_DB];
  if (!url) throw new Error(`DB must be one of ${Object.keys(URLS).join(', ')} (got ${TEST_DB})`);
  return url();
}

/**
 * The database of vitest worker `worker` on the server of `url`: `<database>_w<worker>`. Files run in parallel, one
 * per worker, each on its own database (test/support/worker-databases.ts creates them and drops them at the end).
 */
export function workerDatabaseUrl(url: string, worker: string | number): string {
  const parsed = new URL(url);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}_w${worker}`;
  return parsed.toString();
}

/** The database this test file runs on: in memory on SQLite, else its worker's own on the server. */
export function testDatabaseUrl(): string {
  const url = serverDatabaseUrl();
  const worker = process.env.VITEST_POOL_ID;
  return TEST_DB === 'sqlite' || worker === undefined ? url : workerDatabaseUrl(url, worker);
}
