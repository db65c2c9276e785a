import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import type { Platform } from './sample-app/src/http-adapter.js';

/** Every e2e suite, on one HTTP platform (`PLATFORM`, read by test/support/platform.ts). */
const e2e = (platform: Platform, groupOrder: number): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name: `e2e-${platform}`,
    include: ['test/**/*.e2e-spec.ts'],
    env: { PLATFORM: platform },
    setupFiles: ['reflect-metadata'],
    // On a server (`DB`), a database of each worker's own (test/support/worker-databases.ts).
    globalSetup: ['test/support/worker-databases.ts'],
    // Suites share one database server (and Redis channel) when DB is set: one at a time, one platform after the other.
    fileParallelism: false,
    sequence: { groupOrder },
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
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['lib/**/*.spec.ts'] },
      },
      e2e('express', 1),
      e2e('fastify', 2),
    ],
  },
});
