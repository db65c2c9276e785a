import { describe, expect, it } from 'vitest';
import { defaultRefreshToken, defaultUserId } from './device-tracker.options.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';

const withUser = (user: unknown): DeviceRequest => ({ headers: {}, user });

describe('defaultUserId', () => {
  it('reads user.id first', () => {
    expect(defaultUserId(withUser({ id: 'u-1', sub: 'u-2', userId: 'u-3' }))).toBe('u-1');
  });

  it('falls back to user.sub', () => {
    expect(defaultUserId(withUser({ sub: 'auth0|123', userId: 'u-3' }))).toBe('auth0|123');
  });

  it('falls back to user.userId', () => {
    expect(defaultUserId(withUser({ userId: 99 }))).toBe(99);
  });

  it('skips id and sub set to null or undefined', () => {
    expect(defaultUserId(withUser({ id: null, sub: undefined, userId: 'u-3' }))).toBe('u-3');
  });

  it('returns numeric ids as numbers', () => {
    expect(defaultUserId(withUser({ id: 42 }))).toBe(42);
    expect(defaultUserId(withUser({ id: 0 }))).toBe(0);
  });

  it('ignores ids that are neither strings nor numbers', () => {
    expect(defaultUserId(withUser({ id: { value: 1 } }))).toBeUndefined();
    expect(defaultUserId(withUser({ id: true }))).toBeUndefined();
    expect(defaultUserId(withUser({ sub: ['a'] }))).toBeUndefined();
    expect(defaultUserId(withUser({ userId: 10n }))).toBeUndefined();
  });

  it('falls back past an unusable id to the next field', () => {
    expect(defaultUserId(withUser({ id: '', sub: 'abc' }))).toBe('abc');
    expect(defaultUserId(withUser({ id: {}, sub: 'abc' }))).toBe('abc');
  });

  it('returns undefined when there is no user', () => {
    expect(defaultUserId({ headers: {} })).toBeUndefined();
    expect(defaultUserId(withUser(null))).toBeUndefined();
    expect(defaultUserId(withUser('alice'))).toBeUndefined();
    expect(defaultUserId(withUser({}))).toBeUndefined();
  });
});

describe('defaultRefreshToken', () => {
  it('reads refresh_token', () => {
    expect(defaultRefreshToken({ access_token: 'a', refresh_token: 'r1' })).toBe('r1');
  });

  it('reads refreshToken', () => {
    expect(defaultRefreshToken({ accessToken: 'a', refreshToken: 'r2' })).toBe('r2');
  });

  it('prefers refresh_token over refreshToken', () => {
    expect(defaultRefreshToken({ refresh_token: 'snake', refreshToken: 'camel' })).toBe('snake');
    expect(defaultRefreshToken({ refresh_token: null, refreshToken: 'camel' })).toBe('camel');
  });

  it('returns undefined for a token that is not a string', () => {
    expect(defaultRefreshToken({ refresh_token: 123 })).toBeUndefined();
    expect(defaultRefreshToken({ refreshToken: { token: 'r' } })).toBeUndefined();
  });

  it('returns undefined when the result holds no token', () => {
    expect(defaultRefreshToken({ access_token: 'a' })).toBeUndefined();
    expect(defaultRefreshToken({})).toBeUndefined();
  });

  it('returns undefined for results that are not objects', () => {
    expect(defaultRefreshToken(undefined)).toBeUndefined();
    expect(defaultRefreshToken(null)).toBeUndefined();
    expect(defaultRefreshToken('refresh-token')).toBeUndefined();
    expect(defaultRefreshToken(42)).toBeUndefined();
  });
});
