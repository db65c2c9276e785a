import { describe, expect, it } from 'vitest';
import { normaliseUserId } from './user-id.js';

describe('normaliseUserId', () => {
  it('returns a string id as it is', () => {
    expect(normaliseUserId('user-1')).toBe('user-1');
    expect(normaliseUserId('a')).toBe('a');
  });

  it('turns numbers into strings', () => {
    expect(normaliseUserId(42)).toBe('42');
    expect(normaliseUserId(0)).toBe('0');
    expect(normaliseUserId(-7)).toBe('-7');
    expect(normaliseUserId(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
  });

  it('returns undefined for NaN and infinities', () => {
    expect(normaliseUserId(Number.NaN)).toBeUndefined();
    expect(normaliseUserId(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(normaliseUserId(Number.NEGATIVE_INFINITY)).toBeUndefined();
  });

  it('returns undefined for an empty string', () => {
    expect(normaliseUserId('')).toBeUndefined();
  });

  it('accepts 128 characters and rejects 129', () => {
    expect(normaliseUserId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(normaliseUserId('x'.repeat(129))).toBeUndefined();
  });

  it('returns undefined for an id with a control character (PostgreSQL refuses NUL in text)', () => {
    for (const id of ['\u0000', 'alice\u0000', 'bob\n', '\u007f']) expect(normaliseUserId(id)).toBeUndefined();
    expect(normaliseUserId('ålice 🙂')).toBe('ålice 🙂');
  });

  it('returns undefined for null and undefined', () => {
    expect(normaliseUserId(null)).toBeUndefined();
    expect(normaliseUserId(undefined)).toBeUndefined();
  });
});
