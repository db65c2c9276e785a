// What a login's row costs SQLite, by the table's layout: `npm run bench:write` (about a minute and a half, and the
// build). Each layout gets its own database file, made by the module's own migrations, in WAL with
// `synchronous = NORMAL` as the bench apps run it. Logins are written as the module writes them under load: one INSERT
// of 25 rows (a group commit), from a statement prepared once. The layouts take turns for 8 rounds of 2,000 INSERTs,
// so the tables grow alike (to 400,000 rows); a ratio is the median of the rounds' ratios of the time per row (above
// 1: the later layout is cheaper). The middle layout has 0.5's indexes and 0.4's ids, to tell the two changes apart.
// Nothing is written to RESULTS.md: copy a run's lines into "What profiling changed".
//
//   0.4  every index holds every row, and a refresh token is stored under the bare digest of its jti (random)
//   0.5  NULLs left out of three indexes (PartialDeviceIndexes1764600000000), and a token that carries its session is
//        stored under `<session>/<digest>`: sessions are UUIDv7, so a new row's id goes at the end of the index
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import Database from 'better-sqlite3';
import { DEVICE_TRACKER_MIGRATIONS, Device } from 'nestjs-device-tracker';
import { DataSource } from 'typeorm';
// Not in the package's surface: the ids the module makes, as a login makes them.
import { timeOrderedId } from '../dist/values/time-ordered-id.js';
import { machine } from './support/results-file.mjs';
import { median } from './support/stats.mjs';

const ROWS_PER_INSERT = 25;
const INSERTS_PER_ROUND = 2000;
const ROUNDS = 8;
const LAYOUTS = [
  { name: '0.4', migrations: DEVICE_TRACKER_MIGRATIONS.slice(0, 5), keyedBySession: false },
  { name: '0.4 + partial indexes', migrations: DEVICE_TRACKER_MIGRATIONS, keyedBySession: false },
  { name: '0.5', migrations: DEVICE_TRACKER_MIGRATIONS, keyedBySession: true },
];

async function openLayout(directory, layout) {
  const file = join(directory, `devices-${layout.name}.sqlite`);
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: [Device],
    migrations: layout.migrations,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all('device_tracker_devices');
  const names = columns.map(({ name }) => name);
  const row = `(${names.map(() => '?').join(', ')})`;
  const insert = db.prepare(
    `INSERT INTO device_tracker_devices (${names.join(', ')}) VALUES ${Array(ROWS_PER_INSERT).fill(row).join(', ')}`,
  );
  return { ...layout, db, names, insert, cpu: [], wall: [] };
}

/** The values of one login's row, as a login writes them: a new device of one of 10,000 users. */
function loginRow(layout, index) {
  const sessionId = timeOrderedId(Date.now());
  const digest = createHash('sha256').update(randomUUID()).digest('hex');
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const values = {
    id: timeOrderedId(Date.now()),
    user_id: `user-${index % 10_000}`,
    user_agent: 'autocannon',
    device_name: 'Unknown device',
    device_type: 'other',
    ip_address: '127.0.0.1',
    refresh_token_jti: layout.keyedBySession ? `${sessionId}/${digest}` : digest,
    session_id: sessionId,
    is_active: 1,
    created_at: now,
    last_login_at: now,
    last_seen_at: now,
  };
  return layout.names.map((name) => values[name] ?? null);
}

function round(layout, start) {
  const batches = [];
  for (let i = 0; i < INSERTS_PER_ROUND; i++) {
    batches.push(Array.from({ length: ROWS_PER_INSERT }, (_, r) => loginRow(layout, start + i * ROWS_PER_INSERT + r)));
  }
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (const rows of batches) layout.insert.run(rows.flat());
  const { user, system } = process.cpuUsage(cpu);
  const rows = INSERTS_PER_ROUND * ROWS_PER_INSERT;
  layout.cpu.push((user + system) / rows);
  layout.wall.push(((performance.now() - wall) * 1000) / rows);
}

const range = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

const directory = mkdtempSync(join(tmpdir(), 'device-tracker-write-'));
try {
  const layouts = [];
  for (const layout of LAYOUTS) layouts.push(await openLayout(directory, layout));
  console.log(`${machine()}; ${ROUNDS} rounds of ${INSERTS_PER_ROUND} INSERTs of ${ROWS_PER_INSERT} rows per layout`);
  for (let r = 0; r < ROUNDS; r++) {
    // The order rotates and reverses from round to round, as the HTTP bench's does.
    const rotated = [...layouts.slice(r % layouts.length), ...layouts.slice(0, r % layouts.length)];
    const order = r % 2 === 0 ? rotated : rotated.toReversed();
    for (const layout of order) round(layout, r * INSERTS_PER_ROUND * ROWS_PER_INSERT);
    process.stdout.write('.');
  }
  console.log();
  for (const layout of layouts) {
    console.log(
      `${layout.name}: ${median(layout.cpu).toFixed(1)} µs CPU, ${median(layout.wall).toFixed(1)} µs wall per row`,
    );
  }
  const [before, ...others] = layouts;
  for (const after of others) {
    const ratios = (key) => before[key].map((value, i) => value / after[key][i]);
    console.log(
      `A login's row, ${after.name} vs ${before.name} (SQLite): ${median(ratios('cpu')).toFixed(2)}× CPU ` +
        `(rounds ${range(ratios('cpu'))}), ${median(ratios('wall')).toFixed(2)}× wall time (rounds ${range(ratios('wall'))})`,
    );
  }
  for (const layout of layouts) layout.db.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}
