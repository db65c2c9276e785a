import type { RedisOptions } from '../interfaces/device-tracker-options.interface.js';
import { isRedisConnection, type RedisConnection, RedisRevocationNotifier } from './redis-revocation-notifier.js';

/** The `redis` option as one shape: a URL, a client, or both spelled out. */
function normalise(redis: string | RedisConnection | RedisOptions): RedisOptions {
  if (typeof redis === 'string') return { url: redis };
  return isRedisConnection(redis) ? { client: redis } : redis;
}

/** ioredis's client class, loaded lazily: ioredis is an optional peer dependency. */
async function loadRedis(): Promise<new (url: string) => RedisConnection> {
  try {
    return ((await import('ioredis')) as unknown as { Redis: new (url: string) => RedisConnection }).Redis;
  } catch {
    throw new Error('DeviceTrackerModule: the redis option needs ioredis installed (npm install ioredis)');
  }
}

/**
 * The notifier behind the `redis` option: over the app's client, which it leaves open, or over a connection to `url`
 * that it makes, and closes with its subscriber when the module stops.
 */
export async function createRedisNotifier(
  redis: string | RedisConnection | RedisOptions,
): Promise<RedisRevocationNotifier> {
  const { url, client, channel } = normalise(redis);
  if (client) return new RedisRevocationNotifier(client, { channel });
  const Redis = await loadRedis();
  // Made and handed over in one step: the notifier listens for the connection's errors before any can arrive.
  return new RedisRevocationNotifier(new Redis(url!), { channel, closeClient: true });
}
