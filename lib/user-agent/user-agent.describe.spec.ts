import { describe, expect, it } from 'vitest';
import { UNKNOWN_DEVICE_NAME } from '../device-tracker.constants.js';
import { describeUserAgent, type UserAgentInfo } from './user-agent.js';
import {
  CHROME_ANDROID_PHONE,
  CHROME_ANDROID_TABLET,
  CHROME_MAC,
  CHROME_WINDOWS,
  CURL,
  EDGE_WINDOWS,
  FIREFOX_IPHONE,
  FIREFOX_LINUX,
  GOOGLEBOT,
  SAFARI_IPAD,
  SAFARI_IPHONE,
  SAFARI_MAC,
} from './user-agent.fixtures.js';

describe('describeUserAgent', () => {
  const cases: Array<{ name: string; agent: string; expected: Omit<UserAgentInfo, 'userAgent'> }> = [
    {
      name: 'Chrome on macOS',
      agent: CHROME_MAC,
      expected: { deviceName: 'Chrome 130 on macOS', browser: 'Chrome', os: 'macOS', deviceType: 'desktop' },
    },
    {
      name: 'Chrome on Windows',
      agent: CHROME_WINDOWS,
      expected: { deviceName: 'Chrome 131 on Windows', browser: 'Chrome', os: 'Windows', deviceType: 'desktop' },
    },
    {
      name: 'Firefox on Linux',
      agent: FIREFOX_LINUX,
      expected: { deviceName: 'Firefox 132 on Linux', browser: 'Firefox', os: 'Linux', deviceType: 'desktop' },
    },
    {
      name: 'Safari on macOS',
      agent: SAFARI_MAC,
      expected: { deviceName: 'Safari 18 on macOS', browser: 'Safari', os: 'macOS', deviceType: 'desktop' },
    },
    {
      name: 'Safari on iPhone',
      agent: SAFARI_IPHONE,
      expected: { deviceName: 'Safari 17 on iOS', browser: 'Safari', os: 'iOS', deviceType: 'mobile' },
    },
    {
      name: 'Safari on iPad',
      agent: SAFARI_IPAD,
      expected: { deviceName: 'Safari 17 on iOS', browser: 'Safari', os: 'iOS', deviceType: 'tablet' },
    },
    {
      name: 'Firefox on iPhone',
      agent: FIREFOX_IPHONE,
      expected: { deviceName: 'Firefox 132 on iOS', browser: 'Firefox', os: 'iOS', deviceType: 'mobile' },
    },
    {
      name: 'Chrome on an Android phone',
      agent: CHROME_ANDROID_PHONE,
      expected: { deviceName: 'Chrome 130 on Android', browser: 'Chrome', os: 'Android', deviceType: 'mobile' },
    },
    {
      name: 'Chrome on an Android tablet',
      agent: CHROME_ANDROID_TABLET,
      expected: { deviceName: 'Chrome 130 on Android', browser: 'Chrome', os: 'Android', deviceType: 'tablet' },
    },
    {
      name: 'Edge on Windows',
      agent: EDGE_WINDOWS,
      expected: {
        deviceName: 'Microsoft Edge 130 on Windows',
        browser: 'Microsoft Edge',
        os: 'Windows',
        deviceType: 'desktop',
      },
    },
    {
      name: 'Googlebot',
      agent: GOOGLEBOT,
      expected: { deviceName: 'Googlebot 2', browser: 'Googlebot', os: null, deviceType: 'bot' },
    },
    {
      name: 'curl',
      agent: CURL,
      expected: { deviceName: UNKNOWN_DEVICE_NAME, browser: null, os: null, deviceType: 'unknown' },
    },
  ];

  it.each(cases)('describes $name', ({ agent, expected }) => {
    expect(describeUserAgent(agent)).toEqual({ userAgent: agent, ...expected });
  });

  it('uses the major version only, never the full version, in the label', () => {
    const { deviceName } = describeUserAgent(CHROME_ANDROID_PHONE);
    expect(deviceName).toBe('Chrome 130 on Android');
    expect(deviceName).not.toContain('6723');
  });

  it.each([
    ['undefined', undefined],
    ['an empty string', ''],
    ['whitespace only', '  \r\n '],
  ])('describes %s as an unknown device', (_label, agent) => {
    expect(describeUserAgent(agent)).toEqual({
      userAgent: '',
      deviceName: 'Unknown device',
      browser: null,
      os: null,
      deviceType: 'unknown',
    });
  });

  it('describes unrecognisable text as an unknown device but keeps the agent', () => {
    expect(describeUserAgent('not a browser at all')).toEqual({
      userAgent: 'not a browser at all',
      deviceName: UNKNOWN_DEVICE_NAME,
      browser: null,
      os: null,
      deviceType: 'unknown',
    });
  });

  it('stores a 100 kB agent cut to 512 characters without throwing', () => {
    const huge = CHROME_MAC + ' ' + 'A'.repeat(100 * 1024);
    let info: UserAgentInfo | undefined;
    expect(() => (info = describeUserAgent(huge))).not.toThrow();
    expect(info?.userAgent).toHaveLength(512);
    expect(info?.userAgent).toBe(huge.slice(0, 512));
    // The recognisable part is at the start, so the device is still named.
    expect(info?.deviceName).toBe('Chrome 130 on macOS');
    expect(info?.deviceType).toBe('desktop');
  });

  it('removes CR LF and other control characters from the stored agent', () => {
    const info = describeUserAgent(`${FIREFOX_LINUX}\r\nSet-Cookie: evil=1\u0000\u001b[2J`);
    expect(info.userAgent).toBe(`${FIREFOX_LINUX}Set-Cookie: evil=1[2J`);
    expect(info.userAgent).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(info.deviceName).toBe('Firefox 132 on Linux');
  });

  it('keeps emoji in the stored agent and does not throw on them', () => {
    const agent = `${SAFARI_IPHONE} 🚀📱`;
    let info: UserAgentInfo | undefined;
    expect(() => (info = describeUserAgent(agent))).not.toThrow();
    expect(info?.userAgent).toBe(agent);
    expect(info?.deviceName).toBe('Safari 17 on iOS');
    expect(info?.deviceType).toBe('mobile');
  });

  it('does not throw on an agent made of emoji only', () => {
    const info = describeUserAgent('😀😀😀');
    expect(info.userAgent).toBe('😀😀😀');
    expect(info.deviceName).toBe(UNKNOWN_DEVICE_NAME);
    expect(info.deviceType).toBe('unknown');
  });

  it('returns a fresh object on every call', () => {
    const first = describeUserAgent(CHROME_MAC);
    const second = describeUserAgent(CHROME_MAC);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });
});

describe('describeUserAgent on platforms that name browser and OS alike', () => {
  it('says the name once', () => {
    const tizen =
      'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36';
    expect(describeUserAgent(tizen)).toMatchObject({ deviceName: 'Tizen', deviceType: 'tv' });
  });
});

describe('describeUserAgent field sizes', () => {
  it('caps every field at its column size, whatever the agent claims', () => {
    const longProduct = describeUserAgent(`${'A'.repeat(100)}/1.0 (x)`);
    const longVersion = describeUserAgent(`Chrome/${'9'.repeat(300)}`);
    for (const info of [longProduct, longVersion]) {
      expect(info.deviceName.length).toBeLessThanOrEqual(255);
      expect((info.browser ?? '').length).toBeLessThanOrEqual(64);
      expect((info.os ?? '').length).toBeLessThanOrEqual(64);
    }
    expect(longVersion.deviceName.startsWith('Chrome 999')).toBe(true);
  });
});
