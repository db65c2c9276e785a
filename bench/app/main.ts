// One bench app process. The runner (bench/run.mjs) starts it with its environment, waits for 'ready' and sends 'stop'.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import * as tracker from 'nestjs-device-tracker';
import { loadBenchConfig } from './bench.config.js';
import { BenchAppModule } from './bench-app.module.js';
import { BenchUsers } from './users.js';

const config = loadBenchConfig(process.env);
const users = new BenchUsers();
await users.init();
const root = BenchAppModule.forRoot(config, users);
const options = { logger: ['error', 'warn'] as ('error' | 'warn')[] };
const app: INestApplication =
  config.platform === 'fastify'
    ? await NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), options)
    : await NestFactory.create<NestExpressApplication>(root, options);
await app.listen(config.port, '127.0.0.1');

// Which build of the library this process runs, for the runner to check (its A/B mode runs two): the file the
// package name resolves to from here, proven to be the module the app imported (one URL, one module instance).
const library = import.meta.resolve('nestjs-device-tracker');
if ((await import(library)) !== tracker) throw new Error(`nestjs-device-tracker was not loaded from ${library}`);

process.on('message', (message: 'stop' | { cpu: number }) => {
  // A normal exit, so that `--cpu-prof` writes its profile.
  if (message === 'stop') void app.close().then(() => process.exit(0));
  else process.send?.({ cpu: message.cpu, ...process.cpuUsage() });
});
process.send?.({ ready: config.port, platform: config.platform, library });
