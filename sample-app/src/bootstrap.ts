import { type INestApplication, type NestApplicationOptions, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { BodyDepthPipe } from './body-depth.pipe.js';
import type { SampleConfig } from './config.js';
import { createHttpAdapter } from './http-adapter.js';
import { setupOpenApi } from './openapi.js';

/** Builds the app on the configured platform; `main.ts` listens with it and the tests drive it over HTTP. */
export async function createApp(config: SampleConfig, options: NestApplicationOptions = {}): Promise<INestApplication> {
  const adapter = createHttpAdapter(config.platform, config.trustProxy);
  return configureApp(await NestFactory.create(AppModule.forRoot(config), adapter, options));
}

/** What the sample sets up on its app: also for apps tests build from a testing module of `AppModule`. */
export function configureApp<App extends INestApplication>(app: App): App {
  app.useGlobalPipes(new BodyDepthPipe(), new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  setupOpenApi(app);
  app.enableShutdownHooks();
  return app;
}
