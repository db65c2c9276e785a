import type { Provider } from '@nestjs/common';
import Database from 'better-sqlite3';
import { type Auth, betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import pg from 'pg';
import { BENCH_CONFIG, type BenchConfig } from './bench.config.js';

export const BETTER_AUTH = Symbol('BETTER_AUTH');

/** better-auth with its defaults (no cookie cache, no secondary storage) on the bench's own database. */
export const betterAuthProvider: Provider = {
  provide: BETTER_AUTH,
  inject: [BENCH_CONFIG],
  useFactory: async ({ database, port }: BenchConfig): Promise<Auth> => {
    const sqlite = database.startsWith('sqlite:') && new Database(`${database.slice('sqlite:'.length)}.better-auth`);
    // Set up like the tracker's own SQLite database in the bench.
    if (sqlite) {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
    }
    const auth = betterAuth({
      database: sqlite || new pg.Pool({ connectionString: database, max: 10 }),
      emailAndPassword: { enabled: true },
      secret: 'bench-better-auth-secret-0123456789abcdef',
      baseURL: `http://127.0.0.1:${port}`,
      telemetry: { enabled: false },
      logger: { disabled: true },
    });
    await (await getMigrations(auth.options)).runMigrations();
    return auth as unknown as Auth;
  },
};
