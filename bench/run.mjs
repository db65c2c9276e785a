// The speed benchmark: `npm run bench` (or `npm run bench -- --smoke` for a few seconds of everything, as CI does;
// `-- --profile` runs the apps under --cpu-prof and leaves the profiles in bench/profiles).
//
// It starts the bench apps itself (bench/app: one on SQLite, two on PostgreSQL sharing Redis), drives them with
// autocannon over loopback at 50 connections, and compares each case with its baseline in the same run: the variants
// of a case take turns round after round (a warm-up round first, discarded), and a ratio is the median of the
// rounds' ratios. The full run writes bench/RESULTS.md (section "Speed"), bench/results.svg and, with every round,
// bench/results.json.
//
// Environment: BENCH_PG_URL (a database with "bench" in its name; it is dropped and created again) and REDIS_URL.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from './support/apps.mjs';
import { renderChart } from './support/chart.mjs';
import { recreatePostgresDatabase, serverVersions, withPostgres, withSqlite } from './support/databases.mjs';
import { load } from './support/load.mjs';
import { propagation } from './support/propagation.mjs';
import { machine, writeSection } from './support/results-file.mjs';
import { median, ms, thousands } from './support/stats.mjs';

const SMOKE = process.argv.includes('--smoke');
const PROFILE_DIR = process.argv.includes('--profile')
  ? fileURLToPath(new URL('./profiles', import.meta.url))
  : undefined;
const POSTGRES_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/device_tracker_bench';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const settings = SMOKE
  ? { seconds: 0.5, warmupSeconds: 1, rounds: 1, lastSeenSeconds: 3, lastSeenIntervalMs: 1000, trials: 10 }
  : { seconds: 2, warmupSeconds: 3, rounds: 15, lastSeenSeconds: 30, lastSeenIntervalMs: 5000, trials: 200 };
const CONNECTIONS = 50;
const SESSIONS = 200;
const BETTER_AUTH_USERS = SMOKE ? 4 : 20;
const USERS = 20;
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36',
  'okhttp/4.12.0',
];

const x = (value) => `${value.toFixed(2)}×`;
const verdict = (row) => (row.target ? `≥ ${row.target}× ${row.ratio >= row.target ? 'met' : '**missed**'}` : '—');

const post = async (url, body, headers = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return response;
};

/** Logs a new device in through the tracked login: the index picks its user and browser. */
async function loginDevice(app, index) {
  const response = await post(
    `${app.url}/token-login/tracked`,
    { username: `user${index % USERS}` },
    { 'user-agent': USER_AGENTS[index % USER_AGENTS.length] },
  );
  return { id: response.headers.get('x-device-id'), token: (await response.json()).access_token };
}

async function loginDevices(app, count) {
  const devices = [];
  for (let index = 0; index < count; index++) devices.push(await loginDevice(app, index));
  return devices;
}

async function betterAuthCookies(app, count) {
  const cookies = [];
  for (let index = 0; index < count; index++) {
    const response = await post(`${app.url}/better-auth/sign-up`, { email: `user${index}@bench.test` });
    cookies.push((await response.json()).cookie);
  }
  return cookies;
}

/** One load of a variant, with the app's CPU time per request (which, unlike the rate, the host's noise barely moves). */
async function measure({ app, request }, limit) {
  const before = await app.cpu();
  const result = await load({ ...request, ...limit, connections: CONNECTIONS });
  return { ...result, cpuPerRequest: ((await app.cpu()) - before) / result.requests };
}

/**
 * Runs every variant of a case for `warmupSeconds` (discarded, but it sizes the rounds), then `rounds` rounds in
 * which each variant sends as many requests as it answered in `seconds` of its warm-up, in an order that rotates
 * from round to round. Answers each variant's results per round.
 */
async function interleaved(variants) {
  const amounts = {};
  for (const variant of variants) {
    const warmup = await measure(variant, { seconds: settings.warmupSeconds });
    amounts[variant.name] = Math.max(CONNECTIONS, Math.round(warmup.rps * settings.seconds));
  }
  const rounds = Object.fromEntries(variants.map(({ name }) => [name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (let turn = 0; turn < variants.length; turn++) {
      const variant = variants[(round + turn) % variants.length];
      process.stdout.write('.');
      rounds[variant.name].push(await measure(variant, { amount: amounts[variant.name] }));
    }
  }
  process.stdout.write('\n');
  return rounds;
}

const comparisons = [];
/** Every round's numbers, written next to the results so that anyone can recompute them. */
const raw = [];
const started = Date.now();
const log = (message) => {
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(
    `[${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}] ${message}`,
  );
};

/** One row of the ratio table: ours against a baseline, both from the same rounds. */
function compare(rounds, { label, database, ours, baseline, target, ceiling }) {
  const ratios = (numerator, denominator) =>
    rounds[numerator].map((result, round) => result.rps / rounds[denominator][round].rps);
  const perRound = ratios(ours, baseline);
  const ratio = median(perRound);
  const row = {
    label,
    database,
    ours,
    baseline,
    oursRps: median(rounds[ours].map((result) => result.rps)),
    baselineRps: median(rounds[baseline].map((result) => result.rps)),
    oursP99: median(rounds[ours].map((result) => result.p99)),
    baselineP99: median(rounds[baseline].map((result) => result.p99)),
    oursCpu: median(rounds[ours].map((result) => result.cpuPerRequest)),
    baselineCpu: median(rounds[baseline].map((result) => result.cpuPerRequest)),
    // The same comparison by CPU time per request (baseline ÷ ours, so above 1 still means ours is cheaper).
    cpuRatio: median(rounds[baseline].map((result, round) => result.cpuPerRequest / rounds[ours][round].cpuPerRequest)),
    ratio,
    spread: [Math.min(...perRound), Math.max(...perRound)],
    // What a check costing nothing at all would score against this baseline: the most any check could reach.
    ceiling: ceiling && median(ratios(ceiling, baseline)),
    target,
  };
  comparisons.push(row);
  raw.push({ label, database, rounds });
  log(
    `${label} (${database}): ${row.ratio.toFixed(2)}× — ${thousands(row.oursRps)} vs ${thousands(row.baselineRps)} req/s, ` +
      `${thousands(row.oursCpu)} vs ${thousands(row.baselineCpu)} µs CPU per request (${x(row.cpuRatio)})` +
      ` (rounds ${row.spread.map((value) => value.toFixed(2)).join('–')})` +
      (row.ceiling ? `, a free check would score ${row.ceiling.toFixed(2)}×` : '') +
      (target ? ` (target ≥ ${target}×${ratio >= target ? '' : ', MISSED'})` : ''),
  );
}

async function protectedRoutes(app, database, devices, cookies) {
  log(`Protected GET on ${database}`);
  const bearer = (index) => ({ headers: { authorization: `Bearer ${devices[index % devices.length].token}` } });
  const cookie = (index) => ({ headers: { cookie: cookies[index % cookies.length] } });
  const route = (path, vary) => ({ name: path, app, request: { url: `${app.url}/${path}`, vary } });
  const rounds = await interleaved([
    route('plain', bearer),
    route('tracked', bearer),
    route('naive', bearer),
    route('better-auth', cookie),
  ]);
  compare(rounds, {
    label: 'DeviceSessionGuard vs plain passport-jwt',
    database,
    ours: 'tracked',
    baseline: 'plain',
    target: 0.95,
  });
  compare(rounds, {
    label: 'DeviceSessionGuard vs a database read per request',
    database,
    ours: 'tracked',
    baseline: 'naive',
    ceiling: 'plain',
    target: 2,
  });
  compare(rounds, {
    label: "DeviceSessionGuard vs better-auth's getSession",
    database,
    ours: 'tracked',
    baseline: 'better-auth',
  });
}

async function logins(app, database) {
  log(`Login on ${database}`);
  const login = (path) => ({
    name: path,
    app,
    request: {
      url: `${app.url}/${path}`,
      method: 'POST',
      vary: (index) => ({
        headers: { 'user-agent': USER_AGENTS[index % USER_AGENTS.length] },
        body: { username: `user${index % USERS}`, password: 'password' },
      }),
    },
  });
  const rounds = await interleaved([
    login('token-login'),
    login('token-login/tracked'),
    login('login'),
    login('login/tracked'),
  ]);
  compare(rounds, {
    label: 'Login with @TrackDevice() vs without, no password hash',
    database,
    ours: 'token-login/tracked',
    baseline: 'token-login',
    target: 0.9,
  });
  compare(rounds, {
    label: 'Login with @TrackDevice() vs without, scrypt password check',
    database,
    ours: 'login/tracked',
    baseline: 'login',
    target: 0.9,
  });
}

/**
 * Requests per second against the database writes they cause. A trigger logs every update of a device row with the
 * `last_seen_at` it wrote, so the count is the database's own, and so is the gap between two writes of one device.
 */
async function lastSeenWrites({ database, apps, devices, install, read }) {
  log(`Last-seen writes on ${database} (${settings.lastSeenSeconds} s)`);
  await install();
  const results = await Promise.all(
    apps.map((app) =>
      load({
        url: `${app.url}/tracked`,
        seconds: settings.lastSeenSeconds,
        connections: CONNECTIONS / apps.length,
        vary: (index) => ({ headers: { authorization: `Bearer ${devices[index % devices.length].token}` } }),
      }),
    ),
  );
  const writes = await read();
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const byDevice = new Map();
  for (const { deviceId, seenAt } of writes) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), seenAt]);
  let minGap = Infinity;
  let mostWrites = 0;
  for (const times of byDevice.values()) {
    times.sort((a, b) => a - b);
    mostWrites = Math.max(mostWrites, times.length);
    for (let index = 1; index < times.length; index++) minGap = Math.min(minGap, times[index] - times[index - 1]);
  }
  const row = {
    database,
    instances: apps.length,
    devices: devices.length,
    rps: requests / settings.lastSeenSeconds,
    writesPerSecond: writes.length / settings.lastSeenSeconds,
    writes: writes.length,
    requests,
    mostWrites,
    minGap,
    met: minGap >= settings.lastSeenIntervalMs,
  };
  log(
    `${thousands(row.rps)} req/s, ${row.writesPerSecond.toFixed(1)} writes/s; closest two writes of one device ` +
      `${Number.isFinite(minGap) ? ms(minGap) : 'never'} apart (interval ${settings.lastSeenIntervalMs} ms)${row.met ? '' : ', MISSED'}`,
  );
  return row;
}

const SQLITE_TRIGGER = [
  'DROP TRIGGER IF EXISTS bench_count_writes',
  'DROP TABLE IF EXISTS bench_device_writes',
  'CREATE TABLE bench_device_writes (device_id TEXT, seen_at TEXT)',
  `CREATE TRIGGER bench_count_writes AFTER UPDATE ON device_tracker_devices
   BEGIN INSERT INTO bench_device_writes VALUES (NEW.id, NEW.last_seen_at); END`,
];
const POSTGRES_TRIGGER = [
  'DROP TABLE IF EXISTS bench_device_writes',
  'CREATE TABLE bench_device_writes (device_id varchar(36), seen_at timestamp)',
  `CREATE OR REPLACE FUNCTION bench_count_writes() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN INSERT INTO bench_device_writes VALUES (NEW.id, NEW.last_seen_at); RETURN NEW; END $$`,
  'DROP TRIGGER IF EXISTS bench_count_writes ON device_tracker_devices',
  `CREATE TRIGGER bench_count_writes AFTER UPDATE ON device_tracker_devices
   FOR EACH ROW EXECUTE FUNCTION bench_count_writes()`,
];

const workDir = await mkdtemp(join(tmpdir(), 'device-tracker-bench-'));
const sqliteFile = join(workDir, 'bench.sqlite');
if (PROFILE_DIR) await mkdir(PROFILE_DIR, { recursive: true });
await recreatePostgresDatabase(POSTGRES_URL);
const apps = new Set();
const start = async (options) => {
  const app = await startApp({ profileDir: PROFILE_DIR, ...options });
  apps.add(app);
  return app;
};
const stop = async (...stopping) => {
  for (const app of stopping) apps.delete(app);
  await Promise.all(stopping.map((app) => app.stop()));
};
// The apps of cases 1-4 run with the module's defaults (lastSeenInterval 60 s); the last-seen case restarts them
// with a short interval, to see several intervals in one run.
const sqliteApp = (options) => start({ name: 'sqlite', database: `sqlite:${sqliteFile}`, ...options });
const postgresApp = (name, options) => start({ name, database: POSTGRES_URL, redisUrl: REDIS_URL, ...options });

try {
  let sqlite = await sqliteApp();
  let postgresA = await postgresApp('postgres-a');
  const sqliteDevices = await loginDevices(sqlite, SESSIONS);
  const postgresDevices = await loginDevices(postgresA, SESSIONS);
  await protectedRoutes(sqlite, 'SQLite', sqliteDevices, await betterAuthCookies(sqlite, BETTER_AUTH_USERS));
  await protectedRoutes(
    postgresA,
    'PostgreSQL',
    postgresDevices,
    await betterAuthCookies(postgresA, BETTER_AUTH_USERS),
  );
  await logins(sqlite, 'SQLite');
  await logins(postgresA, 'PostgreSQL');

  await stop(sqlite, postgresA);
  const short = { lastSeenIntervalMs: settings.lastSeenIntervalMs };
  sqlite = await sqliteApp(short);
  postgresA = await postgresApp('postgres-a', short);
  const postgresB = await postgresApp('postgres-b', short);
  const lastSeen = [
    await lastSeenWrites({
      database: 'SQLite',
      apps: [sqlite],
      devices: sqliteDevices,
      install: async () => withSqlite(sqliteFile, (db) => SQLITE_TRIGGER.forEach((sql) => db.exec(sql))),
      read: async () =>
        withSqlite(sqliteFile, (db) =>
          db
            .prepare('SELECT device_id, seen_at FROM bench_device_writes')
            .all()
            .map((row) => ({ deviceId: row.device_id, seenAt: Date.parse(`${row.seen_at.replace(' ', 'T')}Z`) })),
        ),
    }),
    await lastSeenWrites({
      database: 'PostgreSQL',
      apps: [postgresA, postgresB],
      devices: postgresDevices,
      install: () =>
        withPostgres(POSTGRES_URL, async (client) => {
          for (const sql of POSTGRES_TRIGGER) await client.query(sql);
        }),
      read: () =>
        withPostgres(POSTGRES_URL, async (client) =>
          (await client.query('SELECT device_id, seen_at FROM bench_device_writes')).rows.map((row) => ({
            deviceId: row.device_id,
            seenAt: row.seen_at.getTime(),
          })),
        ),
    }),
  ];

  log(`Revocation propagation through Redis (${settings.trials} trials)`);
  const spread = await propagation({
    trials: settings.trials,
    login: (index) => loginDevice(postgresA, index),
    same: postgresA,
    other: postgresB,
  });
  log(
    `other instance: p50 ${ms(spread.other.p50)}, p99 ${ms(spread.other.p99)}; ` +
      `same instance: p50 ${ms(spread.same.p50)}, p99 ${ms(spread.same.p99)}`,
  );

  // Built in smoke runs too, so that they cannot rot either; written only by full runs.
  const versions = await serverVersions({ postgresUrl: POSTGRES_URL, sqliteFile, redisUrl: REDIS_URL });
  const chart = renderChart(comparisons);
  const section = report({ versions, lastSeen, spread, minutes: (Date.now() - started) / 60_000 });
  if (!SMOKE) {
    await writeFile(new URL('./results.svg', import.meta.url), chart);
    await writeFile(
      new URL('./results.json', import.meta.url),
      `${JSON.stringify({ settings, raw, lastSeen, spread })}\n`,
    );
    await writeSection('Speed', section);
    log('Written: bench/RESULTS.md (section "Speed"), bench/results.svg and bench/results.json (every round)');
  }
} finally {
  await stop(...apps);
  await rm(workDir, { recursive: true, force: true });
  if (PROFILE_DIR) log(`CPU profiles: ${PROFILE_DIR}`);
}

function report({ versions, lastSeen, spread, minutes }) {
  return `\`npm run bench\`, ${new Date().toISOString().slice(0, 10)}, ${minutes.toFixed(0)} minutes, on ${machine()};
PostgreSQL ${versions.postgres}, SQLite ${versions.sqlite} (WAL, \`synchronous = NORMAL\`), Redis ${versions.redis}. Apps and
databases share the machine; autocannon runs in the runner's process, each app in its own. ${CONNECTIONS} connections;
each variant answers as many requests per round as it did in ${settings.seconds} s of its warm-up (discarded); the
variants of a case take turns for ${settings.rounds} rounds. A ratio is the median of the rounds' ratios of
requests per second (above 1: ours serves more); the range is the lowest and highest round. CPU is the app
process's own time per request, which the host's noise moves much less than the rate.

![Ratios against each baseline](results.svg)

| case | database | ours | baseline | ratio (rounds) | CPU per request, ours / baseline (ratio) | target |
| --- | --- | --- | --- | --- | --- | --- |
${comparisons
  .map(
    (row) =>
      `| ${row.label} | ${row.database} | ${thousands(row.oursRps)} req/s, p99 ${ms(row.oursP99)} | ` +
      `${thousands(row.baselineRps)} req/s, p99 ${ms(row.baselineP99)} | ` +
      `${x(row.ratio)} (${row.spread.map((value) => value.toFixed(2)).join('–')})` +
      `${row.ceiling ? `; a free check: ${x(row.ceiling)}` : ''} | ` +
      `${thousands(row.oursCpu)} / ${thousands(row.baselineCpu)} µs (${x(row.cpuRatio)}) | ${verdict(row)} |`,
  )
  .join('\n')}

**Last-seen writes** (${settings.lastSeenSeconds} s at ${CONNECTIONS} connections over ${SESSIONS} devices,
\`lastSeenInterval\` ${settings.lastSeenIntervalMs / 1000} s; counted by a trigger on the devices table):

| database | instances | requests/s | writes/s | writes per request | most writes of one device | closest two writes of one device | target |
| --- | --- | --- | --- | --- | --- | --- | --- |
${lastSeen
  .map(
    (row) =>
      `| ${row.database} | ${row.instances} | ${thousands(row.rps)} | ${row.writesPerSecond.toFixed(1)} | ` +
      `${(row.writes / row.requests).toExponential(1)} | ${row.mostWrites} | ` +
      `${Number.isFinite(row.minGap) ? `${(row.minGap / 1000).toFixed(2)} s` : '—'} | ≤ 1 per device per interval ${row.met ? 'met' : '**missed**'} |`,
  )
  .join('\n')}

**Revocation propagation** (${settings.trials} trials, two PostgreSQL instances sharing Redis; each trial logs a new
device in on A, has both instances cache its session as active, then logs it out on A while both are polled with its
access token; times from sending the logout to the first 401):

| watched instance | p50 | p99 | max | target |
| --- | --- | --- | --- | --- |
| B, the other instance | ${ms(spread.other.p50)} | ${ms(spread.other.p99)} | ${ms(spread.other.max)} | p99 < 1 s ${spread.other.p99 < 1000 ? 'met' : '**missed**'} |
| A, the instance that logged out | ${ms(spread.same.p50)} | ${ms(spread.same.p99)} | ${ms(spread.same.max)} | — |`;
}
