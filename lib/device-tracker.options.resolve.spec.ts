import type { CanActivate } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { describe, expect, it } from 'vitest';
import { defaultRefreshToken, defaultUserId, resolveDeviceTrackerOptions } from './device-tracker.options.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';

const FOUR_HUNDRED_DAYS_MS = 400 * 24 * 60 * 60 * 1000;

const getUserId = (request: DeviceRequest) => (request.user as { uid: string }).uid;
const getRefreshToken = (result: unknown) => (result as { rt: string }).rt;

describe('resolveDeviceTrackerOptions', () => {
  describe('defaults', () => {
    const resolved = resolveDeviceTrackerOptions();

    it('writes an httpOnly-ready cookie named device_id for 400 days on path / with SameSite lax', () => {
      expect(FOUR_HUNDRED_DAYS_MS).toBe(34_560_000_000);
      expect(resolved.deviceIdCookie).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
    });

    it('leaves secure and domain unset so they follow the request', () => {
      expect(resolved.deviceIdCookie).not.toBe(false);
      if (resolved.deviceIdCookie === false) return;
      expect(resolved.deviceIdCookie.secure).toBeUndefined();
      expect(resolved.deviceIdCookie.domain).toBeUndefined();
    });

    it('uses the x-device-id header', () => {
      expect(resolved.deviceIdHeader).toBe('x-device-id');
    });

    it('uses the sid session claim', () => {
      expect(resolved.sessionClaim).toBe('sid');
    });

    it('caches 1000 user agents', () => {
      expect(resolved.userAgentCacheSize).toBe(1000);
    });

    it('uses the default user id and refresh token lookups', () => {
      expect(resolved.getUserId).toBe(defaultUserId);
      expect(resolved.getRefreshToken).toBe(defaultRefreshToken);
    });

    it("uses @nestjs/passport's AuthGuard('jwt') class", () => {
      // AuthGuard() is memoised per strategy, so the default is the very class AuthGuard('jwt') returns.
      expect(typeof resolved.authGuard).toBe('function');
      expect(resolved.authGuard).toBe(AuthGuard('jwt'));
      expect(resolved.authGuard).not.toBe(AuthGuard('local'));
    });

    it('resolves the same defaults from an empty object', () => {
      const fromEmpty = resolveDeviceTrackerOptions({});
      expect(fromEmpty.deviceIdCookie).toEqual(resolved.deviceIdCookie);
      expect(fromEmpty.deviceIdHeader).toBe(resolved.deviceIdHeader);
      expect(fromEmpty.sessionClaim).toBe(resolved.sessionClaim);
      expect(fromEmpty.userAgentCacheSize).toBe(resolved.userAgentCacheSize);
    });

    it('returns a new cookie object each time, so callers cannot change the defaults', () => {
      const first = resolveDeviceTrackerOptions();
      const second = resolveDeviceTrackerOptions();
      expect(first.deviceIdCookie).not.toBe(second.deviceIdCookie);
      if (first.deviceIdCookie) first.deviceIdCookie.name = 'changed';
      expect(resolveDeviceTrackerOptions().deviceIdCookie).toMatchObject({ name: 'device_id' });
    });
  });

  describe('overrides', () => {
    it('merges a partial cookie option with the other defaults', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: { name: 'did' } }).deviceIdCookie).toEqual({
        name: 'did',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
      expect(
        resolveDeviceTrackerOptions({ deviceIdCookie: { secure: true, domain: 'example.com' } }).deviceIdCookie,
      ).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
        secure: true,
        domain: 'example.com',
      });
    });

    it('takes every cookie option given', () => {
      const cookie = {
        name: 'dev',
        maxAge: 60_000,
        sameSite: 'strict',
        path: '/auth',
        secure: false,
        domain: 'example.org',
      } as const;
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: cookie }).deviceIdCookie).toEqual(cookie);
    });

    it('disables the cookie with false', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdCookie: false }).deviceIdCookie).toBe(false);
    });

    it('lowercases the header name', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdHeader: 'X-Client-Device' }).deviceIdHeader).toBe('x-client-device');
    });

    it('disables the header with false', () => {
      expect(resolveDeviceTrackerOptions({ deviceIdHeader: false }).deviceIdHeader).toBe(false);
    });

    it('can disable both header and cookie', () => {
      const resolved = resolveDeviceTrackerOptions({ deviceIdHeader: false, deviceIdCookie: false });
      expect(resolved.deviceIdHeader).toBe(false);
      expect(resolved.deviceIdCookie).toBe(false);
    });

    it('takes the session claim, cache size and lookups given', () => {
      const resolved = resolveDeviceTrackerOptions({
        sessionClaim: 'session_id',
        userAgentCacheSize: 5,
        getUserId,
        getRefreshToken,
      });
      expect(resolved.sessionClaim).toBe('session_id');
      expect(resolved.userAgentCacheSize).toBe(5);
      expect(resolved.getUserId).toBe(getUserId);
      expect(resolved.getRefreshToken).toBe(getRefreshToken);
    });

    it('takes a guard class or instance given', () => {
      class MyGuard implements CanActivate {
        canActivate() {
          return true;
        }
      }
      expect(resolveDeviceTrackerOptions({ authGuard: MyGuard }).authGuard).toBe(MyGuard);
      const instance = new MyGuard();
      expect(resolveDeviceTrackerOptions({ authGuard: instance }).authGuard).toBe(instance);
    });

    it('falls back to the defaults for options explicitly set to undefined', () => {
      const resolved = resolveDeviceTrackerOptions({
        deviceIdCookie: undefined,
        deviceIdHeader: undefined,
        sessionClaim: undefined,
        userAgentCacheSize: undefined,
      });
      expect(resolved.deviceIdCookie).toEqual({
        name: 'device_id',
        maxAge: FOUR_HUNDRED_DAYS_MS,
        sameSite: 'lax',
        path: '/',
      });
      expect(resolved.deviceIdHeader).toBe('x-device-id');
      expect(resolved.sessionClaim).toBe('sid');
      expect(resolved.userAgentCacheSize).toBe(1000);
    });
  });
});

describe('resolveDeviceTrackerOptions edge cases', () => {
  it('keeps a cookie default when the override is present but undefined', () => {
    const { deviceIdCookie } = resolveDeviceTrackerOptions({ deviceIdCookie: { name: undefined, maxAge: undefined } });
    expect(deviceIdCookie).toMatchObject({ name: 'device_id', maxAge: 400 * 24 * 60 * 60 * 1000 });
  });

  it('accepts a user agent cache size of 0 and refuses a negative or fractional one', () => {
    expect(resolveDeviceTrackerOptions({ userAgentCacheSize: 0 }).userAgentCacheSize).toBe(0);
    expect(() => resolveDeviceTrackerOptions({ userAgentCacheSize: -1 })).toThrow(/userAgentCacheSize/);
    expect(() => resolveDeviceTrackerOptions({ userAgentCacheSize: 1.5 })).toThrow(/userAgentCacheSize/);
  });
});

describe('resolveDeviceTrackerOptions checks', () => {
  it.each([
    [{ deviceIdCookie: { name: 'bad name' } }, /deviceIdCookie.name/],
    [{ deviceIdCookie: { name: 'a;b' } }, /deviceIdCookie.name/],
    [{ deviceIdCookie: { maxAge: Number.NaN } }, /deviceIdCookie.maxAge/],
    [{ deviceIdCookie: { maxAge: -1 } }, /deviceIdCookie.maxAge/],
    [{ deviceIdCookie: { sameSite: 'none', secure: false } }, /needs secure/],
    [{ deviceIdHeader: 'x device' }, /deviceIdHeader/],
    [{ deviceIdHeader: '' }, /deviceIdHeader/],
  ] as const)('refuses %j at start-up', (options, message) => {
    expect(() => resolveDeviceTrackerOptions(options)).toThrow(message);
  });

  it('makes a SameSite=None cookie Secure, since browsers drop it otherwise', () => {
    expect(resolveDeviceTrackerOptions({ deviceIdCookie: { sameSite: 'none' } }).deviceIdCookie).toMatchObject({
      sameSite: 'none',
      secure: true,
    });
  });
});
