import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from './device-tracker.defaults.js';

/** The options' JSDoc, as the host's editor shows it, and the README's options table. */
const source = readFileSync(new URL('./interfaces/device-tracker-options.interface.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The Default cell of the README's options table for `option`. */
function tableDefault(option: string): string | undefined {
  const row = readme.split('\n').find((line) => line.startsWith(`| \`${option}\``));
  return row?.split(/(?<!\\)\|/)[3]?.trim();
}

/** The `Default:` sentence of the JSDoc right above `field` in the interface named `owner`. */
function documentedDefault(owner: string, field: string): string {
  const body = source.slice(source.indexOf(`export interface ${owner} {`));
  const declaration = body.search(new RegExp(`\\n  ${field}\\??:`));
  const doc = body.slice(body.lastIndexOf('/**', declaration), declaration).replace(/\s*\n\s*\*\s*/g, ' ');
  return /Default: ([^]*?)(?:\. |\.?\s*\*\/)/.exec(doc)?.[1] ?? '';
}

const code = (value: string | number | boolean) => `\`${typeof value === 'string' ? `'${value}'` : value}\``;

describe('DEFAULTS', () => {
  it.each<[string, string, string | number | boolean]>([
    ['DeviceTrackerModuleOptions', 'deviceIdHeader', DEFAULTS.deviceIdHeader],
    ['DeviceTrackerModuleOptions', 'sessionClaim', DEFAULTS.sessionClaim],
    ['DeviceTrackerModuleOptions', 'withoutSession', DEFAULTS.withoutSession],
    ['DeviceTrackerModuleOptions', 'sessionCheck', DEFAULTS.sessionCheck],
    ['DeviceTrackerModuleOptions', 'runMigrations', DEFAULTS.runMigrations],
    ['DeviceTrackerModuleOptions', 'sessionCacheSize', DEFAULTS.sessionCacheSize],
    ['DeviceTrackerModuleOptions', 'sessionCacheTtl', DEFAULTS.sessionCacheTtl],
    ['DeviceTrackerModuleOptions', 'revokedSessionTtl', DEFAULTS.revokedSessionTtl],
    ['DeviceTrackerModuleOptions', 'refreshReuseGrace', DEFAULTS.refreshReuseGrace],
    ['DeviceTrackerModuleOptions', 'lastSeenInterval', DEFAULTS.lastSeenInterval],
    ['DeviceTrackerModuleOptions', 'whenTrackingFails', DEFAULTS.whenTrackingFails],
    ['DeviceTrackerModuleOptions', 'trackingRetries', DEFAULTS.trackingRetries],
    ['DeviceTrackerModuleOptions', 'whenSessionCheckFails', DEFAULTS.whenSessionCheckFails],
    ['DeviceTrackerModuleOptions', 'storeIpAddress', DEFAULTS.storeIpAddress],
    ['DeviceTrackerModuleOptions', 'storeRefreshTokenId', DEFAULTS.storeRefreshTokenId],
    ['DeviceTrackerModuleOptions', 'userAgentCacheSize', DEFAULTS.userAgentCacheSize],
    ['DeviceJwtOptions', 'algorithms', DEFAULTS.jwtAlgorithm],
    ['DeviceJwtOptions', 'clockTolerance', DEFAULTS.jwtClockTolerance],
    ['DeviceJwtOptions', 'cacheSize', DEFAULTS.jwtCacheSize],
    ['DeviceIdCookieOptions', 'name', DEFAULTS.deviceIdCookie.name],
    ['DeviceIdCookieOptions', 'maxAge', DEFAULTS.deviceIdCookie.maxAge],
    ['DeviceIdCookieOptions', 'sameSite', DEFAULTS.deviceIdCookie.sameSite],
    ['DeviceIdCookieOptions', 'path', DEFAULTS.deviceIdCookie.path],
    ['MaxDevicesOptions', 'policy', DEFAULTS.maxDevicesPolicy],
    ['PruneScheduleOptions', 'every', DEFAULTS.pruneEvery],
    ['PruneScheduleOptions', 'batchSize', DEFAULTS.pruneBatchSize],
    ['DeviceTrackerAdminOptions', 'path', DEFAULTS.adminPath],
    ['DeviceTrackerModuleExtras', 'isGlobal', DEFAULTS.isGlobal],
    ['DeviceTrackerModuleExtras', 'path', DEFAULTS.path],
  ])('%s.%s is documented with its default', (owner, field, value) => {
    expect(documentedDefault(owner, field)).toContain(code(value));
  });
});

describe('the README options table', () => {
  it.each<[string, string | number | boolean]>([
    ['deviceIdHeader', DEFAULTS.deviceIdHeader],
    ['sessionClaim', DEFAULTS.sessionClaim],
    ['withoutSession', DEFAULTS.withoutSession],
    ['sessionCheck', DEFAULTS.sessionCheck],
    ['runMigrations', DEFAULTS.runMigrations],
    ['sessionCacheSize', DEFAULTS.sessionCacheSize],
    ['sessionCacheTtl', DEFAULTS.sessionCacheTtl],
    ['revokedSessionTtl', DEFAULTS.revokedSessionTtl],
    ['refreshReuseGrace', DEFAULTS.refreshReuseGrace],
    ['lastSeenInterval', DEFAULTS.lastSeenInterval],
    ['whenTrackingFails', DEFAULTS.whenTrackingFails],
    ['trackingRetries', DEFAULTS.trackingRetries],
    ['whenSessionCheckFails', DEFAULTS.whenSessionCheckFails],
    ['storeIpAddress', DEFAULTS.storeIpAddress],
    ['storeRefreshTokenId', DEFAULTS.storeRefreshTokenId],
    ['userAgentCacheSize', DEFAULTS.userAgentCacheSize],
    ['isGlobal', DEFAULTS.isGlobal],
    ['path', DEFAULTS.path],
  ])('gives %s its default', (option, value) => {
    expect(tableDefault(option)).toContain(code(value));
  });
});
