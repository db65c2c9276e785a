// Boots the packed module in an app without @nestjs/swagger (run with --require ./hide-swagger.cjs): the OpenAPI
// decorators must fall back to nothing and the devices endpoints must still answer.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS, DeviceTrackerModule } from 'nestjs-device-tracker';

assert.throws(() => createRequire(import.meta.url).resolve('@nestjs/swagger'), { code: 'MODULE_NOT_FOUND' });

// The caller's id comes from a header: enough to reach the endpoints without a token setup.
const headerUser = {
  canActivate(context) {
    const request = context.switchToHttp().getRequest();
    request.user = { id: request.headers['x-user'] };
    return Boolean(request.user.id);
  },
};

class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: ':memory:',
      autoLoadEntities: true,
      migrations: DEVICE_TRACKER_MIGRATIONS,
      migrationsRun: true,
    }),
    DeviceTrackerModule.forRoot({ authGuard: headerUser, withoutSession: 'allow' }),
  ],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
try {
  const response = await fetch(`${await app.getUrl()}/devices`, { headers: { 'x-user': 'carol' } });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), []);
  console.log('no-swagger smoke: 1 passed, 0 failed');
} finally {
  await app.close();
}
