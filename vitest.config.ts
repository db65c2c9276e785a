import { fileURLToPath } from 'node:url';
import { defaultExclude, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import type { Platform } from './sample-app/src/http-adapter.js';

/**
 * Test files at once, in one pool for all three projects (unit, Express and Fastify side by side). An e2e file spends
 * much of its time waiting (sleeps, the database, Chromium), so one more than the 2 cores of the CI machine; 2 was
 * slower and 4 to 6 no faster. On a server (`DB`), each worker has its own database. `--maxWorkers` overrides it.
 */
const WORKERS = 3;

/**
 * The load suite's first run in `npm test` and `npm run test:e2e`: 400 of its 2,000 logins, with the same 100 requests
 * in flight and the same checks; `npm run test:slow` runs it at full size. Its run with PostgreSQL's connection cut
 * (test:e2e on PostgreSQL) stays at full size (see test/security/load.e2e-spec.ts).
 */
const LOAD_LOGINS = process.env.LOAD_LOGINS ?? '400';

/**
 * Suites whose checks hold only if a burst of requests is answered within a short real interval (50 requests within
 * `lastSeenInterval: 1000`, two refreshes within a 300 ms grace period). Starved of CPU by the files running beside
 * them they fail, so they run after all the others, one file at a time, as every suite did before. They move back
 * once their sleeps become an injected clock.
 */
const TIMING = ['test/last-seen.e2e-spec.ts', 'test/revocation-races.e2e-spec.ts'];

/**
 * Every e2e suite, on one HTTP platform (`PLATFORM`, read by test/support/platform.ts): `e2e-<platform>`, in parallel
 * with the unit tests and the other platform, then `e2e-<platform>-timing`, the TIMING suites, alone.
 */
const e2e = (platform: Platform, timing = false): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name: timing ? `e2e-${platform}-timing` : `e2e-${platform}`,
    include: timing ? TIMING : ['test/**/*.e2e-spec.ts'],
    exclude: timing ? defaultExclude : [...defaultExclude, ...TIMING],
    ...(timing ? { maxWorkers: 1, sequence: { groupOrder: 1 } } : {}),
    env: { PLATFORM: platform, LOAD_LOGINS },
    setupFiles: ['reflect-metadata'],
    // A worker runs its files one after another in one process, loading Nest, TypeORM and the library once rather
    // than once per file (about a third of the CPU time). Each file still starts its own apps and databases.
    isolate: false,
    // On a server (`DB`), a database of each worker's own (test/support/worker-databases.ts).
    globalSetup: ['test/support/worker-databases.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  resolve: {
    // Tests and the sample app import the package by name; point that at the sources so no build is needed.
    alias: { 'nestjs-device-tracker': fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
  },
  test: {
    maxWorkers: WORKERS,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['lib/**/*.spec.ts'] },
      },
      e2e('express'),
      e2e('fastify'),
      e2e('express', true),
      e2e('fastify', true),
    ],
  },
});
