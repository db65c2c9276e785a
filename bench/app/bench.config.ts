import { createSecretKey } from 'node:crypto';

/** What one bench app process runs on, read from its environment (the runner sets it). */
export interface BenchConfig {
  port: number;
  /** The HTTP platform: `BENCH_PLATFORM`, `express` (the default) or `fastify`. */
  platform: BenchPlatform;
  /** `sqlite:<file>` or a `postgres://` URL. */
  database: string;
  /** Set for the instances that must agree on revocations. */
  redisUrl?: string;
  redisChannel: string;
  /** The module's `lastSeenInterval`; its default when unset. */
  lastSeenIntervalMs?: number;
}

export const BENCH_PLATFORMS = ['express', 'fastify'] as const;
export type BenchPlatform = (typeof BENCH_PLATFORMS)[number];

export const BENCH_CONFIG = Symbol('BENCH_CONFIG');
/**
 * A KeyObject, for signing and verifying: given a string, jsonwebtoken builds the key again on every call (a third of
 * a protected request's time here), which would flatter every ratio.
 */
export const JWT_KEY = createSecretKey(Buffer.from('bench-jwt-secret'));

export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const { PORT, BENCH_PLATFORM = 'express', BENCH_DATABASE, REDIS_URL, REDIS_CHANNEL, LAST_SEEN_INTERVAL_MS } = env;
  if (!PORT || !BENCH_DATABASE) throw new Error('PORT and BENCH_DATABASE are required (the runner sets them)');
  if (!BENCH_PLATFORMS.includes(BENCH_PLATFORM as BenchPlatform)) {
    throw new Error(`BENCH_PLATFORM must be one of ${BENCH_PLATFORMS.join(', ')} (got ${BENCH_PLATFORM})`);
  }
  return {
    port: Number(PORT),
    platform: BENCH_PLATFORM as BenchPlatform,
    database: BENCH_DATABASE,
    redisUrl: REDIS_URL || undefined,
    redisChannel: REDIS_CHANNEL || 'device-tracker-bench',
    lastSeenIntervalMs: LAST_SEEN_INTERVAL_MS ? Number(LAST_SEEN_INTERVAL_MS) : undefined,
  };
}
