import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { SampleConfig } from './config.js';
import { SAMPLE_CONFIG } from './sample.constants.js';

/** The app's Redis connection when `REDIS_URL` is set; closed when the app stops. */
@Injectable()
export class SampleRedis implements OnApplicationShutdown {
  readonly client: Redis | undefined;

  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    this.client = config.redisUrl ? new Redis(config.redisUrl) : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit();
  }
}
