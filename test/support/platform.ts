import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';
import { parsePlatform } from '../../sample-app/src/config.js';
import { createHttpAdapter, type TrustProxy } from '../../sample-app/src/http-adapter.js';

/** The HTTP platform the e2e suites run on: `PLATFORM`, set by each vitest project (default Express). */
export const PLATFORM = parsePlatform(process.env.PLATFORM);

export interface TestAppOptions extends NestApplicationOptions {
  /** Express's `trust proxy` or Fastify's `trustProxy`. Default: trust no proxy. */
  trustProxy?: TrustProxy;
}

/**
 * An app of `moduleRef` on the platform under test, not yet initialised: for what must be installed before
 * `init()` (middleware, Fastify plugins). Start it with `initTestApp()`.
 */
export function createTestApp(
  moduleRef: TestingModule,
  { trustProxy = false, ...options }: TestAppOptions = {},
): INestApplication {
  return moduleRef.createNestApplication(createHttpAdapter(PLATFORM, trustProxy), options);
}

/** Initialises `app`; on Fastify, also waits for its plugins and routes, so supertest can send to its server. */
export async function initTestApp<App extends INestApplication>(app: App): Promise<App> {
  await app.init();
  const adapter = app.getHttpAdapter();
  if (adapter instanceof FastifyAdapter) await adapter.getInstance().ready();
  return app;
}

/** An app of `moduleRef` on the platform under test, initialised and ready for supertest. */
export function startTestApp(moduleRef: TestingModule, options?: TestAppOptions): Promise<INestApplication> {
  return initTestApp(createTestApp(moduleRef, options));
}
