// The speed benchmark: `npm run bench` (about 10 minutes on 2 cores), which builds the library and the bench app
// (bench/app) first. Options, after `npm run bench --`:
//
//   --smoke                every case for a moment, as CI runs it (under a minute): nothing is judged or written
//   --profile              the apps run under --cpu-prof, and leave their profiles in bench/profiles
//   --cases a,b            only these cases: protected, login, scrypt-login, last-seen, propagation
//   --databases a,b        only these databases: sqlite, postgres
//   --platforms a,b        only these platforms: express, fastify
//   --before <git-ref>     A/B: the library as built at <git-ref> against the one built now (the work tree), in the
//                          same rounds; see below. With --cases, --databases and --platforms to keep it short.
//
// It starts the bench apps itself (one per database, two on PostgreSQL sharing Redis for propagation), on Express
// then on Fastify, drives them with autocannon over loopback at 50 connections, and compares each case with its
// baseline in the same run: the variants of a case take turns round after round (a warm-up first, discarded), and a
// ratio is the median of the rounds' ratios. It prints one line per comparison, `<case> (<database>, <platform>):
// <ratio>×`, with its details on the indented lines below it. Only a run of everything writes its results:
// bench/RESULTS.md (section "Speed"), bench/results.svg and, with every round, bench/results.json.
//
// A/B (`--before <git-ref>`): the library's sources at <git-ref> (git archive: package.json, tsconfig*.json, lib) are
// built with this node_modules in a temporary directory (os.tmpdir()/device-tracker-bench-<commit>, kept for the
// next run), and a copy of the bench app as built now is placed in it, at bench/dist: from there the package name
// resolves, by the package's self-reference (the nearest package.json), to that old build, as the bench app in this
// repository resolves it to ./dist. Each app reports the build it imported (bench/app/main.ts) and the runner refuses
// to go on unless it is the expected one; the banner prints both. Both builds' apps run side by side, each on its own
// databases, and every variant of one build takes turns with the same variant of the other. It prints
// `<case> before → after (<database>, <platform>): <x>× → <y>×`, with each build's CPU per request and the ratio of
// after to before on the same route, and (unless --smoke) writes bench/RESULTS.md's section "Before and after".
// Two builds of one commit score about 1.00× against each other: what the harness's own bias amounts to.
//
// Environment: BENCH_PG_URL (a database with "bench" in its name; it is dropped and created again, and so is
// `<name>_before` in A/B runs), REDIS_URL and REDIS_CHANNEL.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { BENCH_MAIN, startApp } from './support/apps.mjs';
import { renderChart } from './support/chart.mjs';
import { recreatePostgresDatabase, serverVersions, withPostgres, withSqlite } from './support/databases.mjs';
import { load } from './support/load.mjs';
import { propagation } from './support/propagation.mjs';
import { machine, packageVersions, writeSection } from './support/results-file.mjs';
import { median, ms, thousands } from './support/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: options } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    cases: { type: 'string' },
    databases: { type: 'string' },
    platforms: { type: 'string' },
    before: { type: 'string' },
  },
  strict: true,
});
const SMOKE = options.smoke;
const AB = options.before !== undefined;
const PROFILE_DIR = options.profile ? fileURLToPath(new URL('./profiles', import.meta.url)) : undefined;
const POSTGRES_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/device_tracker_bench';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const REDIS_CHANNEL = process.env.REDIS_CHANNEL || 'device-tracker-bench';
const settings = SMOKE
  ? { seconds: 0.2, warmupSeconds: 0.3, rounds: 1, lastSeenSeconds: 2.5, lastSeenIntervalMs: 1000, trials: 5 }
  : { seconds: 1.5, warmupSeconds: 2, rounds: 8, lastSeenSeconds: 12, lastSeenIntervalMs: 3000, trials: 100 };
const CONNECTIONS = 50;
/** The fewest requests of a round: one per connection, but a smoke run's scrypt logins need not wait for 50. */
const MIN_AMOUNT = SMOKE ? 10 : CONNECTIONS;
const SESSIONS = SMOKE ? 20 : 200;
const BETTER_AUTH_USERS = SMOKE ? 4 : 20;
const USERS = 20;
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36',
  'okhttp/4.12.0',
];

const DATABASES = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const PLATFORMS = { express: 'Express', fastify: 'Fastify' };

/** The routes the cases load, by variant name. `ab`: loaded in A/B runs (the others do not use the library). */
const VARIANTS = {
  plain: { kind: 'bearer', ab: true, about: "`AuthGuard('jwt')` (passport-jwt) alone: no revocation at all" },
  tracked: { kind: 'bearer', ab: true, about: "`AuthGuard('jwt')` + `DeviceSessionGuard` (the pair)" },
  jwt: { kind: 'bearer', ab: true, about: '`DeviceJwtGuard`: verifies the token and checks its session in one step' },
  naive: { kind: 'bearer', about: "`AuthGuard('jwt')` + a guard that reads the device row on every request" },
  'better-auth': {
    kind: 'cookie',
    about: "better-auth's `getSession` with its defaults (a database read per request)",
  },
  'token-login': { kind: 'login', ab: true, about: 'a login naming its user in the body: no password hash' },
  'token-login/tracked': { kind: 'login', ab: true, about: 'the same with `@TrackDevice()`' },
  login: { kind: 'login', ab: true, about: 'passport-local with one scrypt check, like the sample app' },
  'login/tracked': { kind: 'login', ab: true, about: 'the same with `@TrackDevice()`' },
};

/**
 * The cases compared by ratio. Those of one `set` share their rounds: all five ways to protect the GET route take
 * turns in one set per database and platform, and several comparisons are read from it. A `target` may be per
 * platform; `ceiling` names the variant a check costing nothing would match (plain passport-jwt).
 */
const CASES = {
  protected: {
    title: 'Protected GET',
    variants: ['plain', 'tracked', 'jwt', 'naive', 'better-auth'],
    comparisons: [
      { label: 'DeviceJwtGuard vs plain passport-jwt', ours: 'jwt', baseline: 'plain', target: 1 },
      { label: 'DeviceSessionGuard vs plain passport-jwt', ours: 'tracked', baseline: 'plain', target: 0.95 },
      {
        label: 'DeviceJwtGuard vs a database read per request',
        ours: 'jwt',
        baseline: 'naive',
        ceiling: 'plain',
        target: { fastify: 2 },
      },
      {
        label: 'DeviceSessionGuard vs a database read per request',
        ours: 'tracked',
        baseline: 'naive',
        ceiling: 'plain',
      },
      { label: "DeviceJwtGuard vs better-auth's getSession", ours: 'jwt', baseline: 'better-auth' },
    ],
  },
  login: {
    title: 'Login',
    set: 'login',
    variants: ['token-login', 'token-login/tracked'],
    comparisons: [
      {
        label: 'Login with @TrackDevice() vs without, no password hash',
        ours: 'token-login/tracked',
        baseline: 'token-login',
        target: 0.85,
      },
    ],
  },
  'scrypt-login': {
    title: 'Login',
    set: 'login',
    variants: ['login', 'login/tracked'],
    comparisons: [
      {
        label: 'Login with @TrackDevice() vs without, scrypt password check',
        ours: 'login/tracked',
        baseline: 'login',
        target: 0.9,
      },
    ],
  },
};
const OTHER_CASES = ['last-seen', 'propagation'];

/** The values of a comma-separated option, each checked against `all`; `fallback` when the option is absent. */
function chosen(name, all, fallback = all) {
  if (options[name] === undefined) return fallback;
  const values = options[name].split(',').map((value) => value.trim());
  const unknown = values.filter((value) => !all.includes(value));
  if (unknown.length || !values.length) {
    throw new Error(`--${name}: unknown ${unknown.join(', ') || 'nothing'} (one or more of ${all.join(', ')})`);
  }
  return all.filter((value) => values.includes(value));
}
const cases = chosen('cases', [...Object.keys(CASES), ...OTHER_CASES], AB ? Object.keys(CASES) : undefined);
if (AB && cases.some((name) => OTHER_CASES.includes(name))) {
  throw new Error(`--before compares the ratio cases only (${Object.keys(CASES).join(', ')})`);
}
const databases = chosen('databases', Object.keys(DATABASES));
const platforms = chosen('platforms', Object.keys(PLATFORMS));
/** A run of every case on every database and platform reports (smoke runs too, so the report cannot rot)... */
const EVERYTHING =
  !AB &&
  cases.length === Object.keys(CASES).length + OTHER_CASES.length &&
  databases.length === Object.keys(DATABASES).length &&
  platforms.length === Object.keys(PLATFORMS).length;
/** ...and, unless it is a smoke run, writes the results. */
const WRITES = EVERYTHING && !SMOKE;

/** The ratio cases chosen, merged by set: their variants (A/B: those that use the library) and comparisons. */
const sets = [];
for (const caseName of cases.filter((name) => CASES[name])) {
  const { set = caseName, title, variants, comparisons } = CASES[caseName];
  let entry = sets.find((existing) => existing.set === set);
  if (!entry) sets.push((entry = { set, title, variants: [], comparisons: [] }));
  entry.variants.push(...variants.filter((variant) => !AB || VARIANTS[variant].ab));
  entry.comparisons.push(
    ...comparisons.filter(({ ours, baseline, ceiling }) =>
      [ours, baseline, ceiling].every((variant) => variant === undefined || entry.variants.includes(variant)),
    ),
  );
}

const x = (value) => `${value.toFixed(2)}×`;
const cpuPair = (numbers) => `${thousands(numbers.oursCpu)} / ${thousands(numbers.baselineCpu)} µs`;
const range = ([low, high]) => `${low.toFixed(2)}–${high.toFixed(2)}`;
const targetOf = (target, platform) => (typeof target === 'object' ? target[platform] : target);
const verdict = (row) => (row.target ? `≥ ${row.target}× ${row.ratio >= row.target ? 'met' : '**missed**'}` : '—');
const where = (row) => `${DATABASES[row.database]}, ${PLATFORMS[row.platform]}`;

const started = Date.now();
const elapsed = () => {
  const seconds = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
};
const log = (message) => console.log(`[${elapsed()}] ${message}`);

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

/** The requests of variant `name` on one app, spread over its devices, better-auth users or bench users. */
function requestOf(name, { app, authApp, devices, cookies }) {
  const url = `${(VARIANTS[name].kind === 'cookie' ? authApp : app).url}/${name}`;
  switch (VARIANTS[name].kind) {
    case 'bearer':
      return {
        url,
        vary: (index) => ({ headers: { authorization: `Bearer ${devices[index % devices.length].token}` } }),
      };
    case 'cookie':
      return { url, vary: (index) => ({ headers: { cookie: cookies[index % cookies.length] } }) };
    default:
      return {
        url,
        method: 'POST',
        vary: (index) => ({
          headers: { 'user-agent': USER_AGENTS[index % USER_AGENTS.length] },
          body: { username: `user${index % USERS}`, password: 'password' },
        }),
      };
  }
}

/** One load of a variant, with the app's CPU time per request (which, unlike the rate, the host's noise barely moves). */
async function measure({ app, request }, limit) {
  const before = await app.cpu();
  const result = await load({ ...request, ...limit, connections: CONNECTIONS });
  return { ...result, cpuPerRequest: ((await app.cpu()) - before) / result.requests };
}

/**
 * Runs every variant for `warmupSeconds` (discarded, but it sizes the rounds), then `rounds` rounds in which each
 * variant sends as many requests as it answered in `seconds` of its warm-up. The order rotates from round to round
 * and runs backwards every other round, so no variant always follows the same one. Answers each variant's results
 * per round.
 */
async function interleaved(variants) {
  const amounts = {};
  for (const variant of variants) {
    // A smoke run warms up on a few requests: 50 scrypt logins at once would take longer than its whole case.
    const warmup = await measure(variant, SMOKE ? { amount: MIN_AMOUNT } : { seconds: settings.warmupSeconds });
    amounts[variant.name] = Math.max(MIN_AMOUNT, Math.round(warmup.rps * settings.seconds));
  }
  const rounds = Object.fromEntries(variants.map(({ name }) => [name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    const order = variants.map((_, turn) => variants[(round + turn) % variants.length]);
    if (round % 2) order.reverse();
    for (const variant of order) {
      process.stdout.write('.');
      rounds[variant.name].push(await measure(variant, { amount: amounts[variant.name] }));
    }
  }
  process.stdout.write('\n');
  return rounds;
}

/** Ours against a baseline (and the ceiling variant against it), both from the same rounds. */
function summarise(rounds, ours, baseline, ceiling) {
  const ratios = (numerator, denominator) =>
    rounds[numerator].map((result, round) => result.rps / rounds[denominator][round].rps);
  const perRound = ratios(ours, baseline);
  const of = (variant, key) => median(rounds[variant].map((result) => result[key]));
  return {
    oursRps: of(ours, 'rps'),
    baselineRps: of(baseline, 'rps'),
    oursP99: of(ours, 'p99'),
    baselineP99: of(baseline, 'p99'),
    oursCpu: of(ours, 'cpuPerRequest'),
    baselineCpu: of(baseline, 'cpuPerRequest'),
    // The same comparison by CPU time per request (baseline ÷ ours, so above 1 still means ours is cheaper).
    cpuRatio: median(rounds[baseline].map((result, round) => result.cpuPerRequest / rounds[ours][round].cpuPerRequest)),
    ratio: median(perRound),
    spread: [Math.min(...perRound), Math.max(...perRound)],
    // What a check costing nothing at all would score against this baseline: the most any check could reach.
    ceiling: ceiling && median(ratios(ceiling, baseline)),
  };
}

const details = (row) =>
  `${thousands(row.oursRps)} vs ${thousands(row.baselineRps)} req/s (p99 ${ms(row.oursP99)} vs ${ms(row.baselineP99)}); ` +
  `CPU per request ${thousands(row.oursCpu)} vs ${thousands(row.baselineCpu)} µs (${x(row.cpuRatio)}); ` +
  `rounds ${range(row.spread)}`;

const comparisons = [];
const abRows = [];
/** Every round's numbers, written next to the results so that anyone can recompute them. */
const raw = [];

function compare(rounds, { label, database, platform, ours, baseline, target, ceiling }) {
  const row = { label, database, platform, ours, baseline, target: targetOf(target, platform) };
  Object.assign(row, summarise(rounds, ours, baseline, ceiling));
  comparisons.push(row);
  console.log(`${label} (${where(row)}): ${x(row.ratio)}`);
  console.log(`    ${details(row)}`);
  if (row.ceiling) console.log(`    a free check would score ${x(row.ceiling)} (plain passport-jwt ÷ the baseline)`);
  if (row.target) console.log(`    target ≥ ${row.target}×: ${row.ratio >= row.target ? 'met' : 'MISSED'}`);
}

/** A/B: the comparison in each build's rounds, and each route of it after ÷ before, from the same rounds. */
function compareBuilds(rounds, builds, { label, database, platform, ours, baseline, ceiling }) {
  const [before, after] = builds.map(({ key }) =>
    summarise(rounds, `${key}:${ours}`, `${key}:${baseline}`, ceiling && `${key}:${ceiling}`),
  );
  const sameRoute = (variant) => summarise(rounds, `after:${variant}`, `before:${variant}`);
  const row = { label, database, platform, before, after, ours: sameRoute(ours), baseline: sameRoute(baseline) };
  abRows.push(row);
  console.log(`${label} before → after (${where(row)}): ${x(before.ratio)} → ${x(after.ratio)}`);
  for (const [build, numbers] of [
    [builds[0], before],
    [builds[1], after],
  ]) {
    console.log(`    ${build.key}, ${build.name}: ${details(numbers)}`);
  }
  for (const [what, numbers] of [
    [`ours (${ours})`, row.ours],
    [`baseline (${baseline})`, row.baseline],
  ]) {
    console.log(
      `    ${what} after ÷ before: ${x(numbers.ratio)} req/s (rounds ${range(numbers.spread)}), ` +
        `CPU per request ${thousands(numbers.baselineCpu)} → ${thousands(numbers.oursCpu)} µs ` +
        `(before ÷ after ${x(numbers.cpuRatio)})`,
    );
  }
}

/**
 * Requests per second against the database writes they cause. A trigger logs every update of a device row with the
 * `last_seen_at` it wrote, so the count is the database's own, and so is the gap between two writes of one device.
 */
async function lastSeenWrites({ database, platform, apps, devices, install, read }) {
  log(`Last-seen writes on ${DATABASES[database]}, ${PLATFORMS[platform]} (${settings.lastSeenSeconds} s)`);
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
    platform,
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

const run = promisify(execFile);

/**
 * The library as built at `ref`, for the A/B mode: its sources (git archive, no work tree, so the repository is left
 * as it is) built with this node_modules in os.tmpdir(), once per commit; and a copy of the bench app as built now
 * inside it, whose `nestjs-device-tracker` resolves to that build by the package's self-reference.
 */
async function buildAt(ref) {
  const commit = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT })).stdout.trim();
  const dir = join(tmpdir(), `device-tracker-bench-${commit}`);
  const built = join(dir, '.bench-built');
  if (!existsSync(built)) {
    log(`Building the library at ${ref} (${commit.slice(0, 12)}) in ${dir}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const files = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'lib'];
    await new Promise((resolve, reject) => {
      const archive = spawn('git', ['archive', '--format=tar', commit, ...files], { cwd: ROOT });
      const extract = spawn('tar', ['-x', '-C', dir]);
      archive.stdout.pipe(extract.stdin);
      let failed = '';
      archive.stderr.on('data', (chunk) => (failed += chunk));
      archive.on('exit', (code) => code && reject(new Error(`git archive ${commit} failed: ${failed}`)));
      extract.on('exit', (code) => (code ? reject(new Error(`tar exited with ${code}`)) : resolve()));
    });
    await symlink(await realpath(join(ROOT, 'node_modules')), join(dir, 'node_modules'), 'dir');
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: dir,
    });
    await writeFile(built, `${commit}\n`);
  } else {
    log(`The library at ${ref} (${commit.slice(0, 12)}) was built before, in ${dir}`);
  }
  const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
  if (name !== 'nestjs-device-tracker') throw new Error(`${ref}'s package.json names ${name}`);
  await rm(join(dir, 'bench'), { recursive: true, force: true });
  await cp(dirname(BENCH_MAIN), join(dir, 'bench', 'dist'), { recursive: true });
  return {
    key: 'before',
    name: `${ref} (${commit.slice(0, 12)})`,
    main: join(dir, 'bench', 'dist', 'main.js'),
    library: pathToFileURL(join(dir, 'dist', 'index.js')).href,
  };
}

/** The library as `npm run build` built it just now from the work tree. */
async function currentBuild(key) {
  const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
  const changed = (await run('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT })).stdout.trim();
  return {
    key,
    name: `HEAD (${commit.slice(0, 12)})${changed ? ' with the uncommitted changes to lib' : ''}`,
    main: BENCH_MAIN,
    library: pathToFileURL(join(ROOT, 'dist', 'index.js')).href,
  };
}

/** Each build's own databases, so that an older build never meets a newer schema. */
const sqliteFileOf = (workDir, platform, build) => join(workDir, `${platform}-${build.key}.sqlite`);
const postgresUrlOf = (build) =>
  build.key === 'before'
    ? Object.assign(new URL(POSTGRES_URL), { pathname: `${new URL(POSTGRES_URL).pathname}_before` }).toString()
    : POSTGRES_URL;

/** A rough duration of the run from its settings, printed first. */
function estimateMinutes(builds) {
  const perVariant = settings.warmupSeconds + settings.rounds * settings.seconds;
  const variants = sets.reduce((sum, set) => sum + set.variants.length, 0) * builds.length;
  let seconds = platforms.length * databases.length * (variants * (perVariant + 0.1 * settings.rounds) + 5);
  if (cases.includes('last-seen')) seconds += platforms.length * databases.length * (settings.lastSeenSeconds + 4);
  if (cases.includes('propagation') && databases.includes('postgres')) seconds += platforms.length * 5;
  return seconds / 60;
}

const workDir = await mkdtemp(join(tmpdir(), 'device-tracker-bench-run-'));
if (PROFILE_DIR) await mkdir(PROFILE_DIR, { recursive: true });
const apps = new Set();
const stop = async (...stopping) => {
  for (const app of stopping) apps.delete(app);
  await Promise.all(stopping.map((app) => app.stop()));
};
/** Starts an app of `build`, and checks that it runs that build of the library. */
const start = async (build, appOptions) => {
  const app = await startApp({ profileDir: PROFILE_DIR, main: build.main, ...appOptions });
  apps.add(app);
  if (app.library !== build.library) {
    throw new Error(`the ${build.key} app ${app.name} loaded ${app.library}, not ${build.library}`);
  }
  return app;
};
/** The start under way or done of the last app of each database. */
const starts = new Map();
/**
 * Starts an app of `build` on `database` (sqlite or postgres: the build's own). Apps of different databases may
 * start side by side (a start is mostly waiting), but those of one database start one after the other: each runs the
 * migrations as it starts, and better-auth's take no lock.
 */
const appOf = (build, { database, platform, name = database, ...rest }) => {
  const url = database === 'sqlite' ? `sqlite:${sqliteFileOf(workDir, platform, build)}` : postgresUrlOf(build);
  const starting = (starts.get(url) ?? Promise.resolve())
    .catch(() => {})
    .then(() =>
      start(build, {
        name: `${name}-${build.key}`,
        platform,
        database: url,
        ...(database === 'postgres' && { redisUrl: REDIS_URL, redisChannel: `${REDIS_CHANNEL}:${build.key}` }),
        ...rest,
      }),
    );
  starts.set(url, starting);
  return starting;
};

const lastSeen = [];
const spreads = [];
try {
  const builds = AB ? [await buildAt(options.before), await currentBuild('after')] : [await currentBuild('current')];
  for (const build of builds) log(`${build.key}: ${build.name}; its apps load ${fileURLToPath(build.library)}`);
  log(
    `Cases ${cases.join(', ')} on ${databases.join(', ')}, on ${platforms.join(', ')}: ` +
      `${settings.rounds} rounds of ${settings.seconds} s per variant after ${settings.warmupSeconds} s of warm-up; ` +
      `about ${estimateMinutes(builds).toFixed(1)} minutes`,
  );
  const devicesOf = new Map();
  for (const platform of platforms) {
    // Every platform starts on empty databases: its apps, logins and better-auth users are its own.
    if (databases.includes('postgres')) {
      for (const build of builds) await recreatePostgresDatabase(postgresUrlOf(build));
    }
    // The apps of the ratio cases run with the module's defaults (lastSeenInterval 60 s); those of last-seen and
    // propagation start again with a short interval, to see several intervals in one run. A smoke run starts them
    // once, with the short interval, for every case: there a start costs more than the cases.
    const short = { lastSeenIntervalMs: settings.lastSeenIntervalMs };
    const others = cases.some((name) => OTHER_CASES.includes(name));
    const once = SMOKE && !AB && others;
    // The platform's apps start side by side (see appOf); each is loaded alone, the others idle.
    const running = new Map();
    const needs = (kind) => sets.some((set) => set.variants.some((variant) => VARIANTS[variant].kind === kind));
    if (sets.length) {
      const starting = databases.flatMap((database) => builds.map((build) => ({ database, build })));
      if (once && databases.includes('postgres')) starting.push({ database: 'postgres', build: builds[0], name: 'b' });
      // better-auth runs in an app of its own: its AsyncLocalStorage, once used, turns on Node's promise hooks for the
      // whole process, which would tax every other variant's promises and bias the comparisons against the
      // promise-heavy ones.
      if (needs('cookie')) {
        for (const database of databases) starting.push({ database, build: builds[0], name: 'better-auth' });
      }
      const startedApps = await Promise.all(
        starting.map(({ database, build, name = 'a' }) =>
          appOf(build, {
            database,
            platform,
            ...((database === 'postgres' || name !== 'a') && { name: `${database}-${name}` }),
            ...(once && short),
          }),
        ),
      );
      starting.forEach(({ database, build, name = 'a' }, index) =>
        running.set(`${database}:${build.key}:${name}`, startedApps[index]),
      );
    }
    for (const database of sets.length ? databases : []) {
      const contexts = [];
      for (const build of builds) {
        const app = running.get(`${database}:${build.key}:a`);
        const authApp = running.get(`${database}:${build.key}:better-auth`);
        const devices = needs('bearer') ? await loginDevices(app, SESSIONS) : [];
        const cookies = authApp ? await betterAuthCookies(authApp, BETTER_AUTH_USERS) : [];
        devicesOf.set(`${platform}:${database}:${build.key}`, devices);
        contexts.push({ build, app, authApp, devices, cookies });
      }
      for (const { title, variants, comparisons: rows } of sets) {
        log(`${title} on ${DATABASES[database]}, ${PLATFORMS[platform]}`);
        // A/B: each variant of one build beside the same variant of the other.
        const loaded = variants.flatMap((variant) =>
          contexts.map((context) => ({
            name: AB ? `${context.build.key}:${variant}` : variant,
            app: VARIANTS[variant].kind === 'cookie' ? context.authApp : context.app,
            request: requestOf(variant, context),
          })),
        );
        const rounds = await interleaved(loaded);
        raw.push({ set: title, database, platform, rounds });
        for (const comparison of rows) {
          if (AB) compareBuilds(rounds, builds, { ...comparison, database, platform });
          else compare(rounds, { ...comparison, database, platform });
        }
      }
      if (!once) await stop(...contexts.flatMap(({ app, authApp }) => (authApp ? [app, authApp] : [app])));
    }

    if (!others) continue;
    const [build] = builds;
    const devicesFor = async (app, database) =>
      devicesOf.get(`${platform}:${database}:${build.key}`)?.length
        ? devicesOf.get(`${platform}:${database}:${build.key}`)
        : loginDevices(app, SESSIONS);
    const [sqlite, postgresA, postgresB] =
      once && running.size
        ? ['sqlite:current:a', 'postgres:current:a', 'postgres:current:b'].map((key) => running.get(key))
        : await Promise.all([
            databases.includes('sqlite') && appOf(build, { database: 'sqlite', platform, ...short }),
            ...['postgres-a', 'postgres-b'].map(
              (name) =>
                databases.includes('postgres') && appOf(build, { database: 'postgres', name, platform, ...short }),
            ),
          ]);
    if (sqlite) {
      const sqliteFile = sqliteFileOf(workDir, platform, build);
      if (cases.includes('last-seen')) {
        lastSeen.push(
          await lastSeenWrites({
            database: 'sqlite',
            platform,
            apps: [sqlite],
            devices: await devicesFor(sqlite, 'sqlite'),
            install: async () => withSqlite(sqliteFile, (db) => SQLITE_TRIGGER.forEach((sql) => db.exec(sql))),
            read: async () =>
              withSqlite(sqliteFile, (db) =>
                db
                  .prepare('SELECT device_id, seen_at FROM bench_device_writes')
                  .all()
                  .map((row) => ({ deviceId: row.device_id, seenAt: Date.parse(`${row.seen_at.replace(' ', 'T')}Z`) })),
              ),
          }),
        );
      }
      await stop(sqlite);
    }
    if (postgresA) {
      if (cases.includes('last-seen')) {
        lastSeen.push(
          await lastSeenWrites({
            database: 'postgres',
            platform,
            apps: [postgresA, postgresB],
            devices: await devicesFor(postgresA, 'postgres'),
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
        );
      }
      if (cases.includes('propagation')) {
        log(`Revocation propagation through Redis on ${PLATFORMS[platform]} (${settings.trials} trials)`);
        const spread = await propagation({
          trials: settings.trials,
          login: (index) => loginDevice(postgresA, index),
          same: postgresA,
          other: postgresB,
        });
        spreads.push({ platform, ...spread });
        log(
          `other instance: p50 ${ms(spread.other.p50)}, p99 ${ms(spread.other.p99)}; ` +
            `same instance: p50 ${ms(spread.same.p50)}, p99 ${ms(spread.same.p99)}`,
        );
      }
      await stop(postgresA, postgresB);
    }
  }

  const minutes = (Date.now() - started) / 60_000;
  // Built in smoke runs too, so that they cannot rot either; written only by the runs they describe.
  if (AB) {
    const section = abReport({ builds, minutes });
    if (!SMOKE) {
      await writeSection('Before and after', section);
      log('Written: bench/RESULTS.md (section "Before and after")');
    }
  } else if (EVERYTHING) {
    const sqliteFile = sqliteFileOf(workDir, platforms[0], builds[0]);
    const versions = {
      ...(await serverVersions({ postgresUrl: POSTGRES_URL, sqliteFile, redisUrl: REDIS_URL })),
      ...packageVersions(BENCH_MAIN),
    };
    const chart = renderChart(comparisons.map((row) => ({ ...row, label: `${row.label} (${where(row)})` })));
    const section = report({ versions, minutes });
    if (WRITES) {
      await writeFile(new URL('./results.svg', import.meta.url), chart);
      await writeFile(
        new URL('./results.json', import.meta.url),
        `${JSON.stringify({ settings, versions, raw, lastSeen, propagation: spreads })}\n`,
      );
      await writeSection('Speed', section);
      log('Written: bench/RESULTS.md (section "Speed"), bench/results.svg and bench/results.json (every round)');
    }
  }
  log(`Done in ${minutes.toFixed(1)} minutes (the build before it not counted)`);
} finally {
  await stop(...apps);
  await rm(workDir, { recursive: true, force: true });
  if (PROFILE_DIR) log(`CPU profiles: ${PROFILE_DIR}`);
}

function report({ versions, minutes }) {
  const used = [...new Set(sets.flatMap((set) => set.variants))];
  return `\`npm run bench\`, ${new Date().toISOString().slice(0, 10)}, ${minutes.toFixed(1)} minutes (and the build), on
${machine()}; PostgreSQL ${versions.postgres}, SQLite ${versions.sqlite} (WAL, \`synchronous = NORMAL\`), Redis
${versions.redis}; NestJS ${versions.nest}, Express ${versions.express}, Fastify ${versions.fastify}, TypeORM
${versions.typeorm}, jsonwebtoken ${versions.jsonwebtoken}, passport-jwt ${versions.passportJwt}. Apps and databases
share the machine; autocannon runs in the runner's process, each app in its own, one app loaded at a time.
${CONNECTIONS} connections; each variant answers as many requests per round as it did in ${settings.seconds} s of its
warm-up (${settings.warmupSeconds} s, discarded); the variants of a case take turns for ${settings.rounds} rounds, in
an order that rotates and reverses from round to round. A ratio is the median of the rounds' ratios of requests per
second (above 1: ours serves more); the range is the lowest and highest round. CPU is the app process's own time
per request, which the host's noise moves much less than the rate; its ratio is baseline ÷ ours too.

The routes: ${used.map((variant) => `\`${variant}\`, ${VARIANTS[variant].about}`).join('; ')}.

![Ratios against each baseline](results.svg)

| case | database | platform | ours | baseline | ratio (rounds) | CPU per request, ours / baseline (ratio) | target |
| --- | --- | --- | --- | --- | --- | --- | --- |
${comparisons
  .map(
    (row) =>
      `| ${row.label} | ${DATABASES[row.database]} | ${PLATFORMS[row.platform]} | ` +
      `${thousands(row.oursRps)} req/s, p99 ${ms(row.oursP99)} | ` +
      `${thousands(row.baselineRps)} req/s, p99 ${ms(row.baselineP99)} | ` +
      `${x(row.ratio)} (${range(row.spread)})${row.ceiling ? `; a free check: ${x(row.ceiling)}` : ''} | ` +
      `${thousands(row.oursCpu)} / ${thousands(row.baselineCpu)} µs (${x(row.cpuRatio)}) | ${verdict(row)} |`,
  )
  .join('\n')}

**Last-seen writes** (${settings.lastSeenSeconds} s at ${CONNECTIONS} connections over ${SESSIONS} devices on the
pair's route, \`lastSeenInterval\` ${settings.lastSeenIntervalMs / 1000} s; counted by a trigger on the devices table):

| database | platform | instances | requests/s | writes/s | writes per request | most writes of one device | closest two writes of one device | target |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${lastSeen
  .map(
    (row) =>
      `| ${DATABASES[row.database]} | ${PLATFORMS[row.platform]} | ${row.instances} | ${thousands(row.rps)} | ` +
      `${row.writesPerSecond.toFixed(1)} | ${(row.writes / row.requests).toExponential(1)} | ${row.mostWrites} | ` +
      `${Number.isFinite(row.minGap) ? `${(row.minGap / 1000).toFixed(2)} s` : '—'} | ` +
      `≤ 1 per device per interval ${row.met ? 'met' : '**missed**'} |`,
  )
  .join('\n')}

**Revocation propagation** (${settings.trials} trials per platform, two PostgreSQL instances sharing Redis; each
trial logs a new device in on A, has both instances cache its session as active, then logs it out on A while both
are polled with its access token; times from sending the logout to the first 401):

| platform | watched instance | p50 | p99 | max | target |
| --- | --- | --- | --- | --- | --- |
${spreads
  .flatMap(({ platform, other, same }) => [
    `| ${PLATFORMS[platform]} | B, the other instance | ${ms(other.p50)} | ${ms(other.p99)} | ${ms(other.max)} | ` +
      `p99 < 1 s ${other.p99 < 1000 ? 'met' : '**missed**'} |`,
    `| ${PLATFORMS[platform]} | A, the instance that logged out | ${ms(same.p50)} | ${ms(same.p99)} | ${ms(same.max)} | — |`,
  ])
  .join('\n')}`;
}

function abReport({ builds, minutes }) {
  const [before, after] = builds;
  return `\`npm run bench -- ${process.argv.slice(2).join(' ')}\`, ${new Date().toISOString().slice(0, 10)},
${minutes.toFixed(1)} minutes, on ${machine()}. Before: the library at ${before.name}; after: ${after.name}. Both
builds' apps ran side by side, each on its own databases, the same bench app, every route of one build taking turns
with the same route of the other for ${settings.rounds} rounds (${settings.seconds} s each, after
${settings.warmupSeconds} s of warm-up). The last two columns compare one route across the builds (after ÷ before,
from the same rounds): the baseline's route should score about 1.00×, or the harness favours one build. Copy what an
optimisation changed into "What profiling changed".

| case | database | platform | before: ratio (rounds) | after: ratio (rounds) | CPU per request, ours / baseline: before → after | ours, after ÷ before: req/s (CPU) | baseline, after ÷ before: req/s (CPU) |
| --- | --- | --- | --- | --- | --- | --- | --- |
${abRows
  .map(
    (row) =>
      `| ${row.label} | ${DATABASES[row.database]} | ${PLATFORMS[row.platform]} | ` +
      `${x(row.before.ratio)} (${range(row.before.spread)}) | ${x(row.after.ratio)} (${range(row.after.spread)}) | ` +
      `${cpuPair(row.before)} → ${cpuPair(row.after)} | ${x(row.ours.ratio)} (${x(row.ours.cpuRatio)}) | ` +
      `${x(row.baseline.ratio)} (${x(row.baseline.cpuRatio)}) |`,
  )
  .join('\n')}`;
}
