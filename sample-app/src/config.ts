import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { type Platform, PLATFORMS, type TrustProxy } from './http-adapter.js';

/**
 * How the routes of a signed-in user authenticate the access token: `passport`, passport-jwt's `AuthGuard('jwt')`
 * (the sample's `JwtAuthGuard`) followed by `DeviceSessionGuard`; `device-jwt`, the module's `DeviceJwtGuard` (the
 * sample's `SampleJwtGuard`), which does both in one step under the module's `jwt` option.
 */
export const SAMPLE_AUTHS = ['passport', 'device-jwt'] as const;
export type SampleAuth = (typeof SAMPLE_AUTHS)[number];

export interface SampleConfig {
  port: number;
  /** The HTTP platform: Express (the default) or Fastify. */
  platform: Platform;
  /** Express's `trust proxy` or Fastify's `trustProxy`: leave false unless a proxy you run sits in front of the app. */
  trustProxy: TrustProxy;
  database: DataSourceOptions;
  /** How access tokens are authenticated (see {@link SampleAuth}): `passport` (the default) or `device-jwt`. */
  auth: SampleAuth;
  /** Redis that several instances of the app share, so a logout on one is honoured by all at once. Optional. */
  redisUrl?: string;
  /** Pub/sub channel the instances announce logouts on. */
  redisChannel: string;
  /** Milliseconds a replaced refresh token is still accepted, for two concurrent refreshes by one client. */
  refreshReuseGraceMs: number;
  jwt: {
    accessSecret: string;
    refreshSecret: string;
    /** The `iss` claim both tokens carry and must carry to be accepted: who signed them. */
    issuer: string;
    /** The `aud` claim both tokens carry and must carry to be accepted: the API they are meant for. */
    audience: string;
    /** Access token lifetime, in seconds. */
    accessTtl: number;
    /** Refresh token lifetime, in seconds. */
    refreshTtl: number;
  };
}

const DEFAULT_SQLITE_FILE = 'sample-app/data/sample.sqlite';

/**
 * Database options from a URL: `postgres://…`, `mysql://…`, `mariadb://…`, or `sqlite:<file>` (`sqlite::memory:`
 * for a throwaway database). No URL means an SQLite file under `sample-app/data/`.
 */
export function databaseOptions(url: string | undefined): DataSourceOptions {
  if (!url || url.startsWith('sqlite:')) {
    const database = url ? url.slice('sqlite:'.length) : DEFAULT_SQLITE_FILE;
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    return { type: 'better-sqlite3', database };
  }
  const scheme = url.slice(0, url.indexOf(':'));
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return { type: 'postgres', url };
    case 'mysql':
      return { type: 'mysql', url };
    case 'mariadb':
      return { type: 'mariadb', url: url.replace(/^mariadb:/, 'mysql:') };
    default:
      throw new Error(`DATABASE_URL must start with postgres://, mysql://, mariadb:// or sqlite: (got ${scheme}:)`);
  }
}

/** `PLATFORM`: `express` (the default) or `fastify`. */
export function parsePlatform(value: string | undefined): Platform {
  if (value === undefined || value === '') return 'express';
  const platform = PLATFORMS.find((name) => name === value);
  if (!platform) throw new Error(`PLATFORM must be one of ${PLATFORMS.join(', ')} (got ${value})`);
  return platform;
}

/** `SAMPLE_AUTH`: `passport` (the default) or `device-jwt`. */
export function parseAuth(value: string | undefined): SampleAuth {
  if (value === undefined || value === '') return 'passport';
  const auth = SAMPLE_AUTHS.find((name) => name === value);
  if (!auth) throw new Error(`SAMPLE_AUTH must be one of ${SAMPLE_AUTHS.join(', ')} (got ${value})`);
  return auth;
}

function parseTrustProxy(value: string | undefined): TrustProxy {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

export function loadConfig(env: NodeJS.ProcessEnv): SampleConfig {
  return {
    port: Number(env.PORT ?? 3000),
    platform: parsePlatform(env.PLATFORM),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    database: databaseOptions(env.DATABASE_URL),
    auth: parseAuth(env.SAMPLE_AUTH),
    redisUrl: env.REDIS_URL || undefined,
    redisChannel: env.REDIS_CHANNEL || 'device-tracker:revocations',
    refreshReuseGraceMs: Number(env.REFRESH_REUSE_GRACE_MS ?? 10_000),
    jwt: {
      accessSecret: env.JWT_ACCESS_SECRET ?? 'sample-access-secret-change-me',
      refreshSecret: env.JWT_REFRESH_SECRET ?? 'sample-refresh-secret-change-me',
      // `||`, not `??`: jsonwebtoken skips the check of an empty issuer or audience.
      issuer: env.JWT_ISSUER || 'nestjs-device-tracker-sample',
      audience: env.JWT_AUDIENCE || 'nestjs-device-tracker-sample-api',
      accessTtl: Number(env.JWT_ACCESS_TTL ?? 15 * 60),
      refreshTtl: Number(env.JWT_REFRESH_TTL ?? 30 * 24 * 60 * 60),
    },
  };
}
