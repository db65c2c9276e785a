import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import {
  DEVICES_TABLE,
  DeviceService,
  DeviceTrackerModule,
  MaxDevicesExceededException,
  type DeviceRequest,
} from 'nestjs-device-tracker';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceStore } from '../lib/persistence/device.store.js';
import { TEST_DB, testDatabaseOptions, testTypeOrmModule } from './support/database.js';
import { startTestApp } from './support/platform.js';

/** The indexes the entity and the migrations declare, besides the primary key (whose name TypeORM generates). */
const NAMED_INDEXES = [
  'IDX_device_tracker_devices_user_seen',
  'UQ_device_tracker_devices_refresh_jti',
  'UQ_device_tracker_devices_session',
  'IDX_device_tracker_devices_previous_jti',
  'IDX_device_tracker_devices_concurrent_jti',
  'IDX_device_tracker_devices_seen',
  'IDX_device_tracker_devices_revoked',
  'IDX_device_tracker_devices_ip_seen',
];

const ROWS = 20_000;
const USERS = 2_000;
const DAY = 24 * 60 * 60 * 1000;
/** How far back the seeded devices were last seen: spread evenly over this many days. */
const SEEN_OVER_DAYS = 180;

interface CapturedQuery {
  sql: string;
  parameters: unknown[];
}

/** TypeORM's logger, used to record every statement the module sends, with its parameters, while `recording`. */
class CapturingLogger implements TypeOrmLogger {
  recording = false;
  readonly queries: CapturedQuery[] = [];

  logQuery(sql: string, parameters?: unknown[]): void {
    if (this.recording) this.queries.push({ sql, parameters: parameters ?? [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, each with the node above it. */
function planNodes(node: PlanNode, parent?: PlanNode): { node: PlanNode; parent?: PlanNode }[] {
  return [{ node, parent }, ...(node.Plans ?? []).flatMap((child) => planNodes(child, node))];
}

/** The statements that read or change the devices table (not INSERTs, which scan nothing). */
const touchesDevices = ({ sql }: CapturedQuery) =>
  /^\s*(SELECT|UPDATE|DELETE)\b/i.test(sql) && sql.includes(`"${DEVICES_TABLE}"`);

/** The WHERE clause (and what follows) of a statement, columns unqualified: short enough to read in a table. */
function shapeOf(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)![1]!.toUpperCase();
  const where = sql.slice(sql.search(/\bWHERE\b/i)).replace(/"Device"\./g, '');
  return `${verb} … ${where}`.replace(/\s+/g, ' ').replace(/\((\$\d+), [^)]*, (\$\d+)\)/g, '($1 … $2)');
}

/** Columns a WHERE clause compares. */
function whereColumns(sql: string): Set<string> {
  const where = sql.slice(sql.search(/\bWHERE\b/i)).split(/\bORDER BY\b/i)[0]!;
  return new Set([...where.matchAll(/"(\w+)"\s*(?:=|<|>|IN\b|!=|<>|IS\b)/gi)].map((match) => match[1]!));
}

const fromDevice = (deviceId?: string): DeviceRequest => ({
  headers: deviceId ? { 'x-device-id': deviceId } : {},
  ip: '192.0.2.1',
});

interface Finding {
  method: string;
  query: string;
  indexes: string;
  /** How the plan reads the table sequentially, if it does: `'Seq Scan'`, or `'Seq Scan under Limit'`. */
  seqScan?: string;
}

/**
 * Every statement DeviceService sends to the devices table, explained by PostgreSQL on a table the size of a real
 * app's: none may read it with a sequential scan, and each must use an index whose first column it filters on.
 */
describe.runIf(TEST_DB === 'postgres')('every query of the device tracker is served by an index (postgres)', () => {
  let app: INestApplication;
  let dataSource: DataSource;
  let service: DeviceService;
  const logger = new CapturingLogger();
  /** Index name → its first column. */
  const leadingColumn = new Map<string, string>();
  /** The primary key's index, named by TypeORM. */
  let primaryKey: string;
  const findings: Finding[] = [];
  const jwt = new JwtService({ secret: 'indexes-spec' });

  const oneValue = async <T>(sql: string, parameters: unknown[] = []): Promise<T> =>
    Object.values((await dataSource.query(sql, parameters))[0] as Record<string, T>)[0]!;
  /** One of the user's active devices. */
  const deviceOf = (user: string) =>
    oneValue<string>(`SELECT id FROM ${DEVICES_TABLE} WHERE user_id = $1 AND is_active ORDER BY id LIMIT 1`, [user]);

  /**
   * Runs `call`, explains each statement it sent to the devices table with the same parameters, and checks the plan:
   * no sequential scan of the table (with `seqScanUnderLimit`, one that stops at a SELECT's LIMIT is allowed), and
   * only indexes of the table on a column the statement filters on.
   */
  async function explainQueriesOf(
    method: string,
    call: () => Promise<unknown>,
    { seqScanUnderLimit = false } = {},
  ): Promise<Finding[]> {
    logger.queries.length = 0;
    logger.recording = true;
    try {
      await call();
    } finally {
      logger.recording = false;
    }
    const queries = logger.queries.filter(touchesDevices);
    expect(queries.length, `${method} sent no query to ${DEVICES_TABLE}`).toBeGreaterThan(0);

    const found: Finding[] = [];
    for (const { sql, parameters } of queries) {
      const [{ 'QUERY PLAN': plan }] = (await dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, parameters)) as [
        { 'QUERY PLAN': [{ Plan: PlanNode }] },
      ];
      const nodes = planNodes(plan[0].Plan);
      const indexes = [...new Set(nodes.flatMap(({ node }) => (node['Index Name'] ? [node['Index Name']] : [])))];
      const scans = nodes.filter(
        ({ node }) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === DEVICES_TABLE,
      );
      const underLimit = scans.every(({ parent }) => parent?.['Node Type'] === 'Limit');
      const seqScan = scans.length === 0 ? undefined : underLimit ? 'Seq Scan under Limit' : 'Seq Scan';
      const finding: Finding = { method, query: shapeOf(sql), indexes: indexes.join(' + ') || '(none)', seqScan };
      found.push(finding);
      findings.push(finding);

      // Soft, so that one run names every offender.
      const label = `${method}: ${finding.query}`;
      const allowed = seqScanUnderLimit && finding.query.startsWith('SELECT') ? 'Seq Scan under Limit' : undefined;
      expect.soft([undefined, allowed], `${label} reads ${DEVICES_TABLE} sequentially`).toContain(seqScan);
      if (seqScan) continue;
      const filtered = whereColumns(sql);
      expect.soft(indexes.length, `${label} uses no index`).toBeGreaterThan(0);
      for (const index of indexes) {
        expect.soft(leadingColumn.has(index), `${label} uses ${index}, not an index of ${DEVICES_TABLE}`).toBe(true);
        expect
          .soft(filtered.has(leadingColumn.get(index)!), `${label} uses ${index}, on a column it does not filter on`)
          .toBe(true);
      }
    }
    return found;
  }

  const indexesOf = (found: Finding[], pattern: RegExp) =>
    found.filter((finding) => pattern.test(finding.query)).map((finding) => finding.indexes);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        testTypeOrmModule({ ...testDatabaseOptions(), logging: true, logger }),
        // reject, so that its undo of a login over the limit (a DELETE) is explained too.
        DeviceTrackerModule.forRoot({ path: false, maxDevices: { limit: 9, policy: 'reject' } }),
      ],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    dataSource = app.get(DataSource);
    service = app.get(DeviceService);

    // 20,000 devices of 2,000 users, 10 each: 8 active and 2 logged out, last seen over the last 180 days, most of
    // them rotated at least once and a few with a concurrent refresh.
    await dataSource.query(
      `INSERT INTO ${DEVICES_TABLE} (id, user_id, user_agent, device_name, browser, os, device_type, ip_address,
         refresh_token_jti, session_id, previous_refresh_token_jti, concurrent_refresh_token_jti,
         refresh_token_rotated_at, is_active, created_at, last_login_at, last_seen_at, revoked_at)
       SELECT gen_random_uuid(), 'user-' || (g % $2), 'Mozilla/5.0 (Macintosh) Chrome/130.0.0.0 device ' || g,
         'Chrome 130 on macOS', 'Chrome', 'macOS', 'desktop', '192.0.2.' || (g % 250),
         encode(sha256(('refresh-' || g)::bytea), 'hex'), gen_random_uuid()::text,
         CASE WHEN g % 10 < 7 THEN encode(sha256(('previous-' || g)::bytea), 'hex') END,
         CASE WHEN g % 50 = 0 THEN encode(sha256(('concurrent-' || g)::bytea), 'hex') END,
         CASE WHEN g % 10 < 7 THEN seen - interval '1 hour' END,
         NOT logged_out, seen - interval '30 days', seen - interval '1 hour', seen,
         CASE WHEN logged_out THEN seen + interval '1 minute' END
       FROM (
         SELECT g, (g / $2 + g % $2) % 5 = 0 AS logged_out,
           $3::timestamp - make_interval(mins => (g * 7919) % ($4 * 24 * 60)) AS seen
         FROM generate_series(0, $1 - 1) AS g
       ) AS seeded`,
      [ROWS, USERS, new Date(), SEEN_OVER_DAYS],
    );
    await dataSource.query(`ANALYZE ${DEVICES_TABLE}`);

    const indexes = (await dataSource.query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1`, [
      DEVICES_TABLE,
    ])) as { indexname: string; indexdef: string }[];
    for (const { indexname, indexdef } of indexes) {
      leadingColumn.set(indexname, /\((\w+)/.exec(indexdef)![1]!);
    }
    primaryKey = await oneValue<string>(
      `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
      [DEVICES_TABLE],
    );
  });

  afterAll(async () => {
    if (findings.length > 0) {
      // One line per distinct statement of a method (IN lists folded), with how many times it was sent.
      const counts = new Map<string, number>();
      for (const { method, indexes, query, seqScan } of findings) {
        const key = JSON.stringify([method, seqScan ?? indexes, query.replace(/\(\$\d+ … \$\d+\)/g, '(…)')]);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const rows = [...counts].map(([key, times]) => {
        const [method, index, query] = JSON.parse(key) as [string, string, string];
        return { method, index, query: times > 1 ? `${query} (×${times})` : query };
      });
      const width = (key: 'method' | 'index') => Math.max(...rows.map((row) => row[key].length));
      const lines = rows.map(
        (row) => `${row.method.padEnd(width('method'))} | ${row.index.padEnd(width('index'))} | ${row.query}`,
      );
      console.info(`Query → index, on ${ROWS} devices of ${USERS} users (PostgreSQL):\n${lines.join('\n')}`);
    }
    await app?.close();
  });

  it('has the primary key and every declared index', async () => {
    expect([...leadingColumn.keys()].toSorted()).toEqual([primaryKey, ...NAMED_INDEXES].toSorted());
    expect(leadingColumn.get(primaryKey)).toBe('id');
    expect(await oneValue<number>(`SELECT count(*)::int FROM ${DEVICES_TABLE}`)).toBe(ROWS);
  });

  it('prepareLogin and track (a known device, a new one, and a new one over the limit undone)', async () => {
    const known = await deviceOf('user-7');
    const found = await explainQueriesOf('prepareLogin + track', async () => {
      const session = await service.prepareLogin(fromDevice(known), 'user-7');
      expect(session.deviceId).toBe(known);
      await service.track(fromDevice(known), 'user-7', 'jti-track-known', session);
      // user-7 has 8 active devices: a 9th is allowed, a 10th (prepared without the user, so only checked after
      // the write) is deleted again.
      await service.track(fromDevice(), 'user-7', 'jti-track-new');
      const blind = await service.prepareLogin(fromDevice());
      await expect(service.track(fromDevice(), 'user-7', 'jti-track-over', blind)).rejects.toBeInstanceOf(
        MaxDevicesExceededException,
      );
    });
    expect(indexesOf(found, /^UPDATE|^DELETE/)).not.toContain('(none)');
  });

  it('list, with and without a page', async () => {
    const found = await explainQueriesOf('list', async () => {
      expect(await service.list('user-42', { limit: 20, offset: 0 })).toHaveLength(10);
      expect(await service.list('user-42')).toHaveLength(10);
      expect(await service.list('user-42', { limit: 5, offset: 5 })).toHaveLength(5);
    });
    for (const indexes of indexesOf(found, /./)) expect(indexes).toBe('IDX_device_tracker_devices_user_seen');
  });

  it('findOne', async () => {
    const id = await deviceOf('user-43');
    const found = await explainQueriesOf('findOne', async () => {
      expect(await service.findOne('user-43', id)).toMatchObject({ id, userId: 'user-43' });
    });
    expect(indexesOf(found, /./)).toEqual([primaryKey]);
  });

  it('verifySession of a session not in the cache, and isRefreshTokenActive', async () => {
    const sessionId = await oneValue<string>(
      `SELECT session_id FROM ${DEVICES_TABLE} WHERE user_id = 'user-44' AND is_active LIMIT 1`,
    );
    const found = await explainQueriesOf('verifySession', async () => {
      expect(await service.verifySession(sessionId, 'user-44')).toMatchObject({ sessionId });
    });
    expect(indexesOf(found, /./)).toEqual(['UQ_device_tracker_devices_session']);
    await service.track(fromDevice(), 'user-45', 'jti-active');
    const active = await explainQueriesOf('isRefreshTokenActive', async () => {
      expect(await service.isRefreshTokenActive('jti-active')).toBe(true);
      expect(await service.isRefreshTokenActive('jti-never-issued')).toBe(false);
    });
    for (const indexes of indexesOf(active, /./)) expect(indexes).toBe('UQ_device_tracker_devices_refresh_jti');
  });

  it('rotateRefreshToken: rotation, a concurrent refresh, the token it was given, and reuse of an older token', async () => {
    const device = await service.track(fromDevice(), 'user-46', 'jti-r1');
    const rotation = await explainQueriesOf('rotateRefreshToken (current token)', () =>
      service.rotateRefreshToken('jti-r1', 'jti-r2'),
    );
    expect(indexesOf(rotation, /^UPDATE/)).toEqual(['UQ_device_tracker_devices_refresh_jti']);

    // Within the grace period: the replaced token is found by the previous-token lookup.
    const concurrent = await explainQueriesOf('rotateRefreshToken (replaced token, in grace)', () =>
      service.rotateRefreshToken('jti-r1', 'jti-r3'),
    );
    expect(indexesOf(concurrent, /previous_refresh_token_jti/)).toEqual([
      expect.stringMatching(
        /^(IDX_device_tracker_devices_previous_jti \+ IDX_device_tracker_devices_concurrent_jti|IDX_device_tracker_devices_concurrent_jti \+ IDX_device_tracker_devices_previous_jti)$/,
      ),
    ]);
    await explainQueriesOf('rotateRefreshToken (the concurrent token)', () =>
      service.rotateRefreshToken('jti-r2', 'jti-r4'),
    );

    // A token of the device's session older than any it remembers: found by its session claim, taken for theft.
    const stale = jwt.sign({ sub: 'user-46', sid: device.sessionId }, { jwtid: randomUUID() });
    const reuse = await explainQueriesOf('rotateRefreshToken (reuse, by session)', () =>
      expect(service.rotateRefreshToken(stale, 'jti-r5')).rejects.toThrow('revoked or already used'),
    );
    expect(indexesOf(reuse, /^SELECT .*session_id/)).toContain('UQ_device_tracker_devices_session');
    expect(await oneValue<boolean>(`SELECT is_active FROM ${DEVICES_TABLE} WHERE id = $1`, [device.id])).toBe(false);
  });

  it('rotateRefreshToken with tokens of a session: the lookups of both their ids use the same indexes', async () => {
    // Stored under its digest alone, as by its jti or by 0.4; the tokens below carry the session, so have two ids.
    const device = await service.track(fromDevice(), 'user-48', 'jti-s1');
    const inSession = (jti: string) => jwt.sign({ sub: 'user-48', sid: device.sessionId }, { jwtid: jti });
    const rotation = await explainQueriesOf('rotateRefreshToken (tokens of a session)', () =>
      service.rotateRefreshToken(inSession('jti-s1'), inSession('jti-s2')),
    );
    expect(indexesOf(rotation, /^UPDATE/)).toEqual(['UQ_device_tracker_devices_refresh_jti']);
    const concurrent = await explainQueriesOf('rotateRefreshToken (tokens of a session, replaced, in grace)', () =>
      service.rotateRefreshToken(inSession('jti-s1'), inSession('jti-s3')),
    );
    expect(indexesOf(concurrent, /previous_refresh_token_jti/)).toEqual([
      expect.stringMatching(
        /^(IDX_device_tracker_devices_previous_jti \+ IDX_device_tracker_devices_concurrent_jti|IDX_device_tracker_devices_concurrent_jti \+ IDX_device_tracker_devices_previous_jti)$/,
      ),
    ]);
    const active = await explainQueriesOf('isRefreshTokenActive (a token of a session)', async () => {
      expect(await service.isRefreshTokenActive(inSession('jti-s3'))).toBe(true);
    });
    expect(indexesOf(active, /./)).toEqual(['UQ_device_tracker_devices_refresh_jti']);
  });

  it('search by user, IP address and last seen, alone and together; findById and logoutById', async () => {
    const seenSince = new Date(Date.now() - 7 * DAY);
    const found = await explainQueriesOf('search', async () => {
      expect((await service.search({ userId: 'user-51' }, { limit: 5 })).total).toBe(10);
      expect((await service.search({ ipAddress: '192.0.2.51' }, { limit: 5 })).total).toBe(ROWS / 250);
      await service.search({ ipAddress: '192.0.2.51', active: true, seenSince }, { limit: 5 });
      await service.search({ seenSince }, { limit: 5, offset: 5 });
      await service.search({ userId: 'user-51', active: false, seenSince }, { limit: 5 });
    });
    expect(indexesOf(found, /ip_address/)).not.toContain('(none)');
    const id = await deviceOf('user-52');
    await explainQueriesOf('findById + logoutById', async () => {
      await service.findById(id);
      await service.logoutById(id);
    });
  });

  it('recordSeen', async () => {
    const id = await deviceOf('user-47');
    const now = Date.now();
    const found = await explainQueriesOf('recordSeen', () =>
      app.get(DeviceStore).recordSeen(id, '192.0.2.9', new Date(now), new Date(now + 1)),
    );
    expect(indexesOf(found, /./)).toEqual([primaryKey]);
    const seen = await oneValue<Date>(`SELECT last_seen_at FROM ${DEVICES_TABLE} WHERE id = $1`, [id]);
    expect(seen.getTime()).toBe(now);
  });

  it('logout, logoutOthers and logoutAll', async () => {
    const id = await deviceOf('user-48');
    await explainQueriesOf('logout', () => service.logout('user-48', id));
    const keep = await deviceOf('user-49');
    await explainQueriesOf('logoutOthers', async () => expect(await service.logoutOthers('user-49', keep)).toBe(7));
    await explainQueriesOf('logoutAll', async () => expect(await service.logoutAll('user-50')).toBe(8));
  });

  it('prune, as a regular run finds the table: the devices that went past the limits since the last run', async () => {
    // Kept to 179 days by earlier runs, so the devices of the last day went past it since: about 1 in 180.
    const limit = (SEEN_OVER_DAYS - 1) * DAY;
    const found = await explainQueriesOf('prune', async () => {
      expect(await service.prune({ inactiveFor: limit, batchSize: 100 })).toBeGreaterThan(100);
    });
    const batches = indexesOf(found, /^SELECT .*last_seen_at.*revoked_at/);
    expect(batches.length).toBeGreaterThan(0);
    for (const indexes of batches) {
      expect(indexes.split(' + ').toSorted()).toEqual([
        'IDX_device_tracker_devices_revoked',
        'IDX_device_tracker_devices_seen',
      ]);
    }
  });

  it('prune, with a backlog (a first run on an old table): batches read the table only until the batch is full', async () => {
    // Half the devices are past the limit. For "any 100 that match", PostgreSQL rightly reads the table from the
    // start and stops at the 100th match rather than gather all 10,000 from the two indexes first: a sequential scan
    // is allowed here, for the batch SELECT only and only under its LIMIT. The DELETEs and the re-read go by index.
    // Batches of 100 rather than the default 500: 500 ids are 2.5% of this 20,000-row table, few enough pages that
    // PostgreSQL reads them all rather than probe the primary key 500 times; from about 50,000 rows it probes.
    const found = await explainQueriesOf(
      'prune (backlog)',
      async () => {
        const deleted = await service.prune({ inactiveFor: (SEEN_OVER_DAYS / 2) * DAY, batchSize: 100 });
        expect(deleted).toBeGreaterThan(ROWS / 3);
      },
      { seqScanUnderLimit: true },
    );
    expect(indexesOf(found, /^(DELETE|SELECT … WHERE \(\("id" IN)/)).not.toContain('(none)');
  });
});
