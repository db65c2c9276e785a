import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, type DynamicModule, Module, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CurrentDevice,
  DEVICE_TRACKER_MIGRATIONS,
  Device,
  type DeviceSession,
  DeviceTrackerModule,
  type DeviceTrackerModuleOptions,
  TrackDevice,
} from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BodyUserGuard, FIXTURE_JWT_SECRET, FixtureJwtStrategy } from './fixtures/host-app.module.js';
import { TEST_DB, testDatabaseOptions } from './support/database.js';
import { LogCollector } from './support/log-collector.js';
import { startTestApp } from './support/platform.js';

@Controller()
class LoginController {
  constructor(private readonly jwt: JwtService) {}

  @Post('login')
  @UseGuards(BodyUserGuard)
  @TrackDevice()
  login(@CurrentDevice() device: DeviceSession) {
    return { access_token: this.jwt.sign({ sub: 'alice', ...device.claims }) };
  }
}

/** Every connection the apps made, so one left open by an app that failed to start is closed too. */
const connections: DataSource[] = [];

@Module({})
class PlainHostModule {
  /** A host whose TypeORM options know nothing of the module: no autoLoadEntities, no migrations. */
  static with(database: DataSourceOptions, tracker: DeviceTrackerModuleOptions = {}): DynamicModule {
    return {
      module: PlainHostModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => database,
          dataSourceFactory: async (options) => {
            const connection = new DataSource(options!);
            connections.push(connection);
            return connection.initialize();
          },
        }),
        PassportModule,
        JwtModule.register({ secret: FIXTURE_JWT_SECRET }),
        DeviceTrackerModule.forRoot(tracker),
      ],
      controllers: [LoginController],
      providers: [FixtureJwtStrategy],
    };
  }
}

const login = (app: INestApplication) => request(app.getHttpServer()).post('/login').send({ userId: 'alice' });
const recorded = async (app: INestApplication, table: string): Promise<string[]> => {
  const runner = app.get(DataSource).createQueryRunner();
  try {
    if (!(await runner.hasTable(table))) return [];
    const rows: { name: string }[] = await runner.manager
      .createQueryBuilder()
      .select('runs.name', 'name')
      .from(table, 'runs')
      .getRawMany();
    return rows.map((row) => row.name).toSorted();
  } finally {
    await runner.release();
  }
};

const MODULE_MIGRATIONS = DEVICE_TRACKER_MIGRATIONS.map((migration) => migration.name);

describe(`the devices table, kept by the module (${TEST_DB})`, () => {
  const apps: INestApplication[] = [];
  const files: string[] = [];

  /** A database the apps of one test share: a file for SQLite, the test database otherwise. */
  function sharedDatabase(): DataSourceOptions {
    if (TEST_DB !== 'sqlite') return testDatabaseOptions();
    const file = join(tmpdir(), `device-tracker-table-${randomUUID()}.sqlite`);
    files.push(file);
    return { type: 'better-sqlite3', database: file, dropSchema: true };
  }

  async function start(module: DynamicModule, logger: LogCollector | false = false): Promise<INestApplication> {
    // The table is made while the module is built, before the app exists: the builder gets the logger too.
    const builder = Test.createTestingModule({ imports: [module] });
    const moduleRef = await (logger ? builder.setLogger(logger) : builder).compile();
    const app = await startTestApp(moduleRef, { logger });
    apps.push(app);
    return app;
  }

  afterEach(async () => {
    for (const app of apps.splice(0).toReversed()) await app.close();
    for (const connection of connections.splice(0)) if (connection.isInitialized) await connection.destroy();
  });
  afterAll(() => files.forEach((file) => rmSync(file, { force: true })));

  it('registers its entity and creates its table from its own migrations table', async () => {
    const logs = new LogCollector();
    const app = await start(PlainHostModule.with(sharedDatabase()), logs);

    await login(app).expect(201);
    expect(await app.get(DataSource).getRepository(Device).count()).toBe(1);
    expect(await recorded(app, 'device_tracker_migrations')).toEqual(MODULE_MIGRATIONS.toSorted());
    expect(await recorded(app, 'migrations')).toEqual([]);
    expect(logs.lines.log).toContainEqual(
      expect.stringMatching(/^\[DeviceTracker\] Brought the devices table up to date/),
    );
  });

  it('runs nothing again when the app starts again', async () => {
    const database = sharedDatabase();
    const first = await start(PlainHostModule.with(database));
    await login(first).expect(201);
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    const logs = new LogCollector();
    const again = await start(PlainHostModule.with({ ...database, dropSchema: false }), logs);
    expect(await deviceCount(again)).toBe(1);
    expect(await recorded(again, 'device_tracker_migrations')).toEqual(MODULE_MIGRATIONS.toSorted());
    expect(logs.lines.log.filter((line) => line.includes('Brought the devices table'))).toEqual([]);
  });

  it('leaves the migrations to a host whose connection lists them', async () => {
    const database = sharedDatabase();
    const app = await start(
      PlainHostModule.with({ ...database, migrations: DEVICE_TRACKER_MIGRATIONS, migrationsRun: true }),
    );
    await login(app).expect(201);
    expect(await recorded(app, 'migrations')).toEqual(MODULE_MIGRATIONS.toSorted());
    expect(await recorded(app, 'device_tracker_migrations')).toEqual([]);
  });

  it('takes over the runs a host recorded in its own table, without running them twice or losing rows', async () => {
    const database = sharedDatabase();
    const before = await start(
      PlainHostModule.with({ ...database, migrations: DEVICE_TRACKER_MIGRATIONS, migrationsRun: true }),
    );
    await login(before).expect(201);
    await before.close();
    apps.splice(apps.indexOf(before), 1);

    // The host drops the module's migrations from its config and leaves them to the module.
    const after = await start(PlainHostModule.with({ ...database, dropSchema: false }));
    expect(await deviceCount(after)).toBe(1);
    expect(await recorded(after, 'device_tracker_migrations')).toEqual(MODULE_MIGRATIONS.toSorted());
    await login(after).expect(201);
  });

  it('refuses to start, naming runMigrations, on a table whose migration runs it cannot find', async () => {
    const database = sharedDatabase();
    const cli = await start(
      PlainHostModule.with({
        ...database,
        migrations: DEVICE_TRACKER_MIGRATIONS,
        migrationsRun: true,
        migrationsTableName: 'cli_migrations',
      }),
    );
    await login(cli).expect(201);
    await cli.close();
    apps.splice(apps.indexOf(cli), 1);

    // The runtime connection does not say where the CLI recorded them.
    const moduleRef = Test.createTestingModule({ imports: [PlainHostModule.with({ ...database, dropSchema: false })] });
    await expect(moduleRef.compile()).rejects.toThrow(
      /exists but no run of its migrations is recorded.*runMigrations: false/,
    );
  });

  it('creates nothing with runMigrations: false, and a login then cannot be recorded', async () => {
    const app = await start(
      PlainHostModule.with(sharedDatabase(), { runMigrations: false, whenTrackingFails: 'refuse' }),
    );
    const refused = await login(app).expect(503);
    expect(refused.body.message).toBe('Cannot record this sign-in right now; try again shortly');
    expect(await recorded(app, 'device_tracker_migrations')).toEqual([]);
    const runner = app.get(DataSource).createQueryRunner();
    expect(await runner.hasTable('device_tracker_devices')).toBe(false);
    await runner.release();
  });
});

async function deviceCount(app: INestApplication): Promise<number> {
  return app.get(DataSource).getRepository(Device).count();
}
