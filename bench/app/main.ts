// One bench app process. The runner (bench/run.mjs) starts it with its environment, waits for 'ready' and sends 'stop'.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadBenchConfig } from './bench.config.js';
import { BenchAppModule } from './bench-app.module.js';
import { BenchUsers } from './users.js';

const config = loadBenchConfig(process.env);
const users = new BenchUsers();
await users.init();
const app = await NestFactory.create<NestExpressApplication>(BenchAppModule.forRoot(config, users), {
  logger: ['error', 'warn'],
});
await app.listen(config.port, '127.0.0.1');
process.on('message', (message: 'stop' | { cpu: number }) => {
  // A normal exit, so that `--cpu-prof` writes its profile.
  if (message === 'stop') void app.close().then(() => process.exit(0));
  else process.send?.({ cpu: message.cpu, ...process.cpuUsage() });
});
process.send?.({ ready: config.port });
