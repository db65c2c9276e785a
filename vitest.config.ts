import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
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
 * Every e2e suite, on one HTTP platform (`PLATFORM`, read by test/support/platform.ts), in parallel with the unit
 * tests and the other platform. Suites that step past an interval do it on an injected clock, so a starved CPU cannot
 * make them late.
 */
const e2e = (platform: Platform): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name: `e2e-${platform}`,
    include: ['test/**/*.e2e-spec.ts'],
    env: { PLATFORM: platform, LOAD_LOGINS },
    setupFiles: ['reflect-metadata'],
    // A worker runs its files one after another in one process, loading Nest, TypeORM and the library once rather
    // than once per file (about a third of the CPU time). Each file still starts its own apps and databases.
    isolate: false,
    // On a server (`DB`), a database of each worker's own (test/support/worker-databases.ts).
    globalSetup: ['test/support/worker-databases.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // How long expect.poll() waits for a page to show an answer: a sign-in through the browser (scrypt, then several
    // requests) took over the default second on a loaded CI machine. A wait, not a bound on anything measured.
    expect: { poll: { timeout: 5000 } },
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
    ],
  },
});
