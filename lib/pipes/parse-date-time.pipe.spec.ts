import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ParseDateTimePipe } from './parse-date-time.pipe.js';

const MESSAGE =
  'seenSince must be an ISO 8601 date or date-time with a time zone, e.g. 2026-11-24 or 2026-11-24T20:13:47Z';

describe('ParseDateTimePipe', () => {
  const pipe = new ParseDateTimePipe('seenSince', { optional: true });
  const iso = (value: string) => pipe.transform(value)?.toISOString();

  it.each([
    ['2026-11-24', '2026-11-24T00:00:00.000Z'],
    ['2026-11-24T20:13Z', '2026-11-24T20:13:00.000Z'],
    ['2026-11-24T20:13:47Z', '2026-11-24T20:13:47.000Z'],
    ['2026-11-24T20:13:47.241Z', '2026-11-24T20:13:47.241Z'],
    ['2026-11-24T20:13:47.241516Z', '2026-11-24T20:13:47.241Z'],
    ['2026-11-24T21:13:47+01:00', '2026-11-24T20:13:47.000Z'],
    ['2026-11-24T15:43:47-04:30', '2026-11-24T20:13:47.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['0001-01-01', '0001-01-01T00:00:00.000Z'],
  ])('reads %j as %s (a date alone is midnight UTC)', (value, expected) => {
    expect(iso(value)).toBe(expected);
  });

  it('gives undefined when absent', () => {
    expect(pipe.transform(undefined)).toBeUndefined();
  });

  it.each([
    '',
    'yesterday',
    '1764000000000',
    '2026-11-24T20:13:47',
    '2026-11-24 20:13:47Z',
    '2026-11-24t20:13:47z',
    '2026-11-24T20:13:47+0100',
    '2026-11-24T24:00Z',
    '2026-11-24T20:60Z',
    '2026-11-24T20:13:60Z',
    '2026-11-24T20:13:47+24:00',
    '2026-11-24T20:13:47.Z',
    '2026-13-01',
    '2026-00-10',
    '2026-11-31',
    '2026-02-29',
    '1900-02-29',
    '2026-11-24Z',
    '+002026-11-24',
    '26-11-24',
    'Tue, 24 Nov 2026 20:13:47 GMT',
  ])('refuses %j with a message naming the parameter and the format', (value) => {
    expect(() => pipe.transform(value)).toThrow(new BadRequestException(MESSAGE));
  });

  it('refuses a repeated parameter', () => {
    expect(() => pipe.transform(['2026-11-24', '2026-11-25'])).toThrow(MESSAGE);
  });
});
