import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';
import type { RedisOptions } from '../interfaces/device-tracker-options.interface.js';
import { isRedisConnection, type RedisConnection, RedisRevocationNotifier } from './redis-revocation-notifier.js';

/** The `redis` option as one shape: a URL, a client, or both spelled out. */
function normalise(redis: string | RedisConnection | RedisOptions): RedisOptions {
  if (typeof redis === 'string') return { url: redis };
  return isRedisConnection(redis) ? { client: redis } : redis;
}

/** An ioredis client for `url`, loaded lazily: ioredis is an optional peer dependency. */
async function connect(url: string): Promise<RedisConnection> {
  let Redis: new (url: string) => RedisConnection;
  try {
    ({ Redis } = (await import('ioredis')) as unknown as { Redis: typeof Redis });
  } catch {
    throw new Error('DeviceTrackerModule: the redis option needs ioredis installed (npm install ioredis)');
  }
  const client = new Redis(url);
  // ioredis retries on its own; an error event without a listener would only be printed.
  const logger = new Logger(LOGGER_CONTEXT);
  client.on('error', (error: Error) => logger.warn(`Redis: ${error.message}`));
  return client;
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
  return new RedisRevocationNotifier(await connect(url!), { channel, closeClient: true });
}
