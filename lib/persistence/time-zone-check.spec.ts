import { describe, expect, it } from 'vitest';
import { warnIfNotUtc } from './time-zone-check.js';

/** A logger that keeps what it is told to warn. */
function collector() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: unknown) => void warnings.push(String(message)) } };
}

/** A zone's offsets, as `Date#getTimezoneOffset` gives them: `winter` from October to March, `summer` otherwise. */
const zone =
  (winter: number, summer = winter) =>
  (instant: Date) =>
    instant.getUTCMonth() >= 3 && instant.getUTCMonth() < 9 ? summer : winter;

const TOKYO = zone(-540);
const LONDON = zone(0, -60);
const NEW_YORK = zone(300, 240);
const KOLKATA = zone(-330);
const UTC = zone(0);

const on = (type: string) => ({ options: { type } });

describe('warnIfNotUtc', () => {
  it.each(['postgres', 'mysql', 'mariadb'])('warns once on %s in Asia/Tokyo, naming the fix and the docs', (type) => {
    const { warnings, logger } = collector();
    expect(warnIfNotUtc(on(type), logger, TOKYO)).toBe(true);
    expect(warnings).toEqual([
      `This process runs in UTC+09:00, not UTC: on ${type} the devices table then holds local times without a zone, ` +
        'which instances in other zones read as other times and which read back an hour off around a daylight-saving ' +
        'change. Run the app with TZ=UTC (see "Time zones" in docs/operations.md of this package)',
    ]);
  });

  it.each([
    ['Europe/London, on UTC only in winter', LONDON, 'UTC+00:00 and UTC+01:00'],
    ['America/New_York', NEW_YORK, 'UTC-05:00 and UTC-04:00'],
    ['Asia/Kolkata', KOLKATA, 'UTC+05:30'],
  ])('names the offsets of %s', (_name, offsetAt, offsets) => {
    const { warnings, logger } = collector();
    warnIfNotUtc(on('postgres'), logger, offsetAt);
    expect(warnings).toEqual([expect.stringContaining(`This process runs in ${offsets}, not UTC: `)]);
  });

  it.each(['postgres', 'mysql', 'mariadb'])('says nothing on %s in UTC', (type) => {
    const { warnings, logger } = collector();
    expect(warnIfNotUtc(on(type), logger, UTC)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it.each(['better-sqlite3', 'sqlite', 'sqljs'])('says nothing on %s, which stores UTC strings', (type) => {
    const { warnings, logger } = collector();
    expect(warnIfNotUtc(on(type), logger, TOKYO)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('reads the offset of the process by default', () => {
    const { warnings, logger } = collector();
    const local = new Date().getTimezoneOffset() !== 0 || new Date(Date.UTC(2026, 6, 1)).getTimezoneOffset() !== 0;
    expect(warnIfNotUtc(on('postgres'), logger)).toBe(local);
    expect(warnings).toHaveLength(local ? 1 : 0);
  });
});
