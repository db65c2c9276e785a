import { describe, expect, it } from 'vitest';
import { normaliseDeviceId } from './device-id.js';
import { timeOrderedId } from './time-ordered-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a UUID version 7 with the RFC variant, which the module takes as a device id', () => {
    const id = timeOrderedId(Date.parse('2026-12-07T03:00:00.000Z'));
    expect(id).toMatch(V7);
    expect(normaliseDeviceId(id)).toBe(id);
  });

  it('starts with the 48-bit time in milliseconds', () => {
    const now = Date.parse('2026-12-07T03:00:00.123Z');
    const id = timeOrderedId(now);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
    expect(timeOrderedId(0).slice(0, 13)).toBe('00000000-0000');
  });

  it('sorts by time, and differs in its random part within one millisecond', () => {
    const now = Date.parse('2026-12-07T03:00:00.000Z');
    const ids = [now, now + 1, now + 1000, now + 86_400_000].map(timeOrderedId);
    expect(ids.toSorted()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(now)));
    expect(same.size).toBe(1000);
    for (const id of same) expect(id).toMatch(V7);
  });
});
