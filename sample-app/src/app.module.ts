import { type DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS, DeviceTrackerModule, RedisRevocationNotifier } from 'nestjs-device-tracker';
import { AdminGuard } from './auth/admin.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { SampleJwtGuard } from './auth/sample-jwt.guard.js';
import type { SampleConfig } from './config.js';
import { DeviceJwtMeController, MeController } from './me.controller.js';
import { CreateSampleUsers1764000000100 } from './migrations/1764000000100-create-sample-users.js';
import { AddSampleUserAdminFlag1764500000100 } from './migrations/1764500000100-add-sample-user-admin-flag.js';
import { PagesController } from './pages/pages.controller.js';
import { SampleRedis } from './redis.provider.js';
import { SAMPLE_CONFIG } from './sample.constants.js';
import { SecurityEventsListener } from './security-events.listener.js';
import { UsersModule } from './users/users.module.js';

@Module({})
export class AppModule {
  static forRoot(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...config.database,
          autoLoadEntities: true,
          migrations: [
            ...DEVICE_TRACKER_MIGRATIONS,
            CreateSampleUsers1764000000100,
            AddSampleUserAdminFlag1764500000100,
          ],
          migrationsRun: true,
        }),
        EventEmitterModule.forRoot(),
        // The touches: this import, autoLoadEntities above, @TrackDevice() and @CurrentDevice() on the login
        // route, and DeviceSessionGuard where a logged-out device must lose access at once (with `auth: 'device-jwt'`,
        // DeviceJwtGuard, which authenticates too).
        DeviceTrackerModule.forRootAsync({
          path: 'api/devices',
          // The admin endpoints, for the admin panel at /admin: only users the AdminGuard lets through.
          admin: { guard: AdminGuard, path: 'api/admin/devices' },
          inject: [SAMPLE_CONFIG, SampleRedis],
          useFactory: ({ auth, jwt, refreshReuseGraceMs, redisChannel }: SampleConfig, redis: SampleRedis) => ({
            revocationNotifier: redis.client && new RedisRevocationNotifier(redis.client, { channel: redisChannel }),
            revokedSessionTtl: jwt.accessTtl * 1000,
            refreshReuseGrace: refreshReuseGraceMs,
            // The module's endpoints authenticate as /me does. With `device-jwt`, SampleJwtGuard (DeviceJwtGuard)
            // verifies the tokens as JwtStrategy does: HS256 only, with the sample's secret, issuer and audience.
            authGuard: auth === 'device-jwt' ? SampleJwtGuard : JwtAuthGuard,
            ...(auth === 'device-jwt' && {
              jwt: { secret: jwt.accessSecret, algorithms: ['HS256'], issuer: jwt.issuer, audience: jwt.audience },
            }),
            // Every token the sample signs has the session claim: one without it is refused everywhere, the
            // module's own endpoints included (by default they would serve it and warn).
            withoutSession: 'deny',
          }),
        }),
        UsersModule,
        AuthModule.register(config.auth),
      ],
      controllers: [config.auth === 'device-jwt' ? DeviceJwtMeController : MeController, PagesController],
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }, SampleRedis, SecurityEventsListener, AdminGuard],
      exports: [SAMPLE_CONFIG, SampleRedis],
    };
  }
}
