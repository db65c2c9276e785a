// Scale benchmark: 1,000,000 devices of 10,000 users in PostgreSQL; GET /devices latency and prune throughput.
// Run: `npm run bench:scale` (builds the package first). BENCH_DATABASE_URL picks the server; the database named in
// it must have "bench" in its name; it is dropped and created again. Results are printed and written to
// bench/RESULTS.md (section "Scale").
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_TRACKER_MIGRATIONS, DeviceService, DeviceTrackerModule } from 'nestjs-device-tracker';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DataSource } from 'typeorm';
import { recreatePostgresDatabase, withPostgres } from './support/databases.mjs';
import { writeSection, machine } from './support/results-file.mjs';
import { ms, quantile } from './support/stats.mjs';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/device_tracker_bench';
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const USERS = Number(process.env.USERS ?? 10_000);
const REQUESTS = Number(process.env.REQUESTS ?? 4000);
const CONCURRENCY = 50;
const SECRET = 'bench-secret';
const DAY = 24 * 3600 * 1000;

class BenchJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: SECRET });
  }
  validate(payload) {
    return payload;
  }
}
Injectable()(BenchJwtStrategy);

class BenchModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: DATABASE_URL,
      autoLoadEntities: true,
      migrations: DEVICE_TRACKER_MIGRATIONS,
      migrationsRun: true,
    }),
    PassportModule,
    DeviceTrackerModule.forRoot({ lastSeenInterval: false }),
  ],
  providers: [BenchJwtStrategy],
})(BenchModule);

async function measure(base, tokens, concurrency) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) {
        const token = tokens[next++ % tokens.length];
        const t0 = performance.now();
        const response = await fetch(`${base}/devices?limit=50`, { headers: { authorization: `Bearer ${token}` } });
        if (response.status !== 200) throw new Error(`GET /devices answered ${response.status}`);
        const body = await response.json();
        if (body.length !== 50) throw new Error(`expected a page of 50, got ${body.length}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), rps: latencies.length / seconds };
}

await recreatePostgresDatabase(DATABASE_URL);
const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const base = await app.getUrl();
const dataSource = app.get(DataSource);

let t0 = performance.now();
// Each user has ROWS/USERS devices, seen over the last year; a fifth are logged out.
await dataSource.query(
  `INSERT INTO device_tracker_devices
     (id, user_id, user_agent, device_name, browser, os, device_type, ip_address, refresh_token_jti, session_id,
      is_active, created_at, last_login_at, last_seen_at, revoked_at)
   SELECT gen_random_uuid(), 'user-' || (i % $2), 'Mozilla/5.0', 'Chrome 130 on macOS', 'Chrome 130', 'macOS',
          'desktop', '192.0.2.' || (i % 250), md5('jti' || i), 's-' || i, (i % 5) <> 0,
          now() - interval '400 days', seen, seen, CASE WHEN (i % 5) = 0 THEN seen END
   FROM (SELECT i, now() - (random() * 365) * interval '1 day' AS seen FROM generate_series(1, $1) AS i) AS rows`,
  [ROWS, USERS],
);
const loadSeconds = (performance.now() - t0) / 1000;
await dataSource.query('ANALYZE device_tracker_devices');

const sessions = await dataSource.query(
  `SELECT user_id, session_id FROM device_tracker_devices WHERE is_active ORDER BY random() LIMIT 2000`,
);
const jwt = new JwtService({ secret: SECRET });
const tokens = sessions.map((row) => jwt.sign({ sub: row.user_id, sid: row.session_id, jti: randomUUID() }));

await measure(base, tokens, CONCURRENCY); // warm-up, discarded
const sequential = await measure(base, tokens, 1);
const concurrent = await measure(base, tokens, CONCURRENCY);

const service = app.get(DeviceService);
const before = Number((await dataSource.query('SELECT count(*) AS n FROM device_tracker_devices'))[0].n);
t0 = performance.now();
const deleted = await service.prune({ inactiveFor: 180 * DAY, loggedOutFor: 180 * DAY, batchSize: 1000 });
const pruneSeconds = (performance.now() - t0) / 1000;
await app.close();

const version = await withPostgres(
  DATABASE_URL,
  async (client) => (await client.query('SHOW server_version')).rows[0].server_version,
);

const section = `\`npm run bench:scale\`, ${new Date().toISOString().slice(0, 10)}: ${ROWS.toLocaleString('en')} devices of ${USERS.toLocaleString('en')} users
(${ROWS / USERS} each) in PostgreSQL ${version}, on ${machine()}. The app and the database share the machine.

| measure | result |
| --- | --- |
| load ${ROWS.toLocaleString('en')} rows (one \`INSERT … SELECT\`) | ${loadSeconds.toFixed(1)} s |
| \`GET /devices?limit=50\`, one client, ${REQUESTS} requests | p50 ${ms(sequential.p50)}, p99 ${ms(sequential.p99)}, ${sequential.rps.toFixed(0)} req/s |
| \`GET /devices?limit=50\`, ${CONCURRENCY} concurrent clients | p50 ${ms(concurrent.p50)}, p99 ${ms(concurrent.p99)}, ${concurrent.rps.toFixed(0)} req/s |
| \`prune({ inactiveFor: 180 days })\`, batches of 1000 | ${deleted.toLocaleString('en')} of ${before.toLocaleString('en')} rows in ${pruneSeconds.toFixed(1)} s (${Math.round(deleted / pruneSeconds).toLocaleString('en')} rows/s) |

Each request goes through passport-jwt and \`DeviceSessionGuard\` (sessions drawn at random from 2,000, so most are
cached after the warm-up round, which is discarded) and reads one page through the \`(user_id, last_seen_at)\` index.
`;
console.log(section);
await writeSection('Scale', section);
