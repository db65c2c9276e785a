import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS, DeviceTrackerModule } from 'nestjs-device-tracker';
import { AuthModule } from './auth/auth.module.js';
import type { SampleConfig } from './config.js';
import { MeController } from './me.controller.js';
import { CreateSampleUsers1764000000100 } from './migrations/1764000000100-create-sample-users.js';
import { SAMPLE_CONFIG } from './sample.constants.js';
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
          migrations: [...DEVICE_TRACKER_MIGRATIONS, CreateSampleUsers1764000000100],
          migrationsRun: true,
        }),
        // The three touches: this import, autoLoadEntities above, and @TrackDevice() on the login route.
        DeviceTrackerModule.forRoot({ path: 'api/devices' }),
        UsersModule,
        AuthModule,
      ],
      controllers: [MeController],
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }],
      exports: [SAMPLE_CONFIG],
    };
  }
}
