import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export const PLATFORMS = ['express', 'fastify'] as const;

/** The HTTP platform the app runs on. */
export type Platform = (typeof PLATFORMS)[number];

/**
 * Which proxies may set `X-Forwarded-For`: `true`, `false`, addresses and subnets (`'loopback'`, `'10.0.0.0/8'`,
 * comma-separated), or, on Express only, a hop count.
 */
export type TrustProxy = boolean | string | number;

/** The HTTP adapter of `platform`, trusting only the proxies `trustProxy` names. */
export function createHttpAdapter(platform: Platform, trustProxy: TrustProxy): AbstractHttpAdapter {
  if (platform === 'fastify') {
    // Fastify takes a hop count but then trusts no proxy at all, as it cannot tell a proxy from a direct client.
    if (typeof trustProxy === 'number') {
      throw new Error(`Fastify trusts no proxy by hop count (got ${trustProxy}); name the proxies, e.g. loopback`);
    }
    return new FastifyAdapter({ trustProxy });
  }
  const adapter = new ExpressAdapter();
  adapter.set('trust proxy', trustProxy);
  return adapter;
}
