import { type DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import { DEVICE_TRACKER_MIGRATIONS, Device, DeviceTrackerModule, RedisRevocationNotifier } from 'nestjs-device-tracker';
import { BENCH_CONFIG, type BenchConfig, JWT_KEY } from './bench.config.js';
import { BenchController } from './bench.controller.js';
import { betterAuthProvider } from './better-auth.provider.js';
import { BetterAuthGuard, BodyUserGuard, NaiveDeviceGuard } from './guards.js';
import { JwtStrategy, LocalStrategy } from './strategies.js';
import { BenchUsers } from './users.js';

@Module({})
export class BenchAppModule {
  static forRoot(config: BenchConfig, users: BenchUsers): DynamicModule {
    const database = config.database.startsWith('sqlite:')
      ? ({
          type: 'better-sqlite3',
          database: config.database.slice('sqlite:'.length),
          // WAL with synchronous NORMAL, as SQLite should run in production: otherwise every commit waits for the
          // disk, and better-sqlite3 waits on the event loop.
          enableWAL: true,
          prepareDatabase: (db: { pragma(source: string): unknown }) => void db.pragma('synchronous = NORMAL'),
        } as const)
      : ({ type: 'postgres', url: config.database } as const);
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({
          ...database,
          entities: [Device],
          migrations: DEVICE_TRACKER_MIGRATIONS,
          migrationsRun: true,
        }),
        TypeOrmModule.forFeature([Device]),
        PassportModule,
        JwtModule.register({}),
        // The module as an app would configure it; the devices endpoints (logout) are used by the propagation case.
        // `jwt` is what DeviceJwtGuard verifies (the key passport-jwt has too); it also authenticates those endpoints.
        DeviceTrackerModule.forRoot({
          jwt: { secret: JWT_KEY, algorithms: ['HS256'] },
          ...(config.lastSeenIntervalMs !== undefined && { lastSeenInterval: config.lastSeenIntervalMs }),
          revocationNotifier: config.redisUrl
            ? new RedisRevocationNotifier(new Redis(config.redisUrl), { channel: config.redisChannel })
            : undefined,
        }),
      ],
      controllers: [BenchController],
      providers: [
        { provide: BENCH_CONFIG, useValue: config },
        { provide: BenchUsers, useValue: users },
        betterAuthProvider,
        JwtStrategy,
        LocalStrategy,
        NaiveDeviceGuard,
        BetterAuthGuard,
        BodyUserGuard,
      ],
    };
  }
}
