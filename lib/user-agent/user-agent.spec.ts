import { describe, expect, it } from 'vitest';
import { UNKNOWN_DEVICE_NAME, USER_AGENT_MAX_LENGTH } from '../device-tracker.constants.js';
import { describeUserAgent, normaliseUserAgent, UserAgentParser, type UserAgentInfo } from './user-agent.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';
const SAFARI_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const SAFARI_IPAD =
  'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const FIREFOX_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15';
const CHROME_ANDROID_PHONE =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Mobile Safari/537.36';
const CHROME_ANDROID_TABLET =
  'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Safari/537.36';
const EDGE_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.68';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const CURL = 'curl/8.5.0';

describe('normaliseUserAgent', () => {
  it('returns an empty string for a missing or empty agent', () => {
    expect(normaliseUserAgent(undefined)).toBe('');
    expect(normaliseUserAgent('')).toBe('');
    expect(normaliseUserAgent('   \t  ')).toBe('');
  });

  it('keeps an ordinary agent unchanged', () => {
    expect(normaliseUserAgent(CHROME_MAC)).toBe(CHROME_MAC);
  });

  it('trims surrounding whitespace', () => {
    expect(normaliseUserAgent(`  ${CURL}  `)).toBe(CURL);
  });

  it('removes CR, LF, NUL, ESC, DEL and the other C0 control characters', () => {
    expect(normaliseUserAgent('curl/8.5.0\r\nX-Injected: yes')).toBe('curl/8.5.0X-Injected: yes');
    expect(normaliseUserAgent('a\u0000b\u0007c\u001b[31md\u001fe\u007ff\tg')).toBe('abc[31mdefg');
    expect(normaliseUserAgent('\r\n' + CURL + '\n')).toBe(CURL);
  });

  it('keeps non-ASCII text such as emoji and accented letters', () => {
    expect(normaliseUserAgent('MyApp/1.0 😀 (café)')).toBe('MyApp/1.0 😀 (café)');
  });

  it(`cuts the agent to ${USER_AGENT_MAX_LENGTH} characters`, () => {
    const long = 'Mozilla/5.0 ' + 'x'.repeat(100 * 1024);
    const normalised = normaliseUserAgent(long);
    expect(USER_AGENT_MAX_LENGTH).toBe(512);
    expect(normalised).toHaveLength(USER_AGENT_MAX_LENGTH);
    expect(normalised).toBe(long.slice(0, USER_AGENT_MAX_LENGTH));
  });

  it('keeps an agent of exactly the maximum length whole', () => {
    const exact = 'a'.repeat(USER_AGENT_MAX_LENGTH);
    expect(normaliseUserAgent(exact)).toBe(exact);
  });

  it('removes control characters before cutting, so they do not use up the length budget', () => {
    const agent = '\r\n'.repeat(100) + 'b'.repeat(USER_AGENT_MAX_LENGTH);
    expect(normaliseUserAgent(agent)).toBe('b'.repeat(USER_AGENT_MAX_LENGTH));
  });
});

describe('normaliseUserAgent edge cases', () => {
  it('removes C1 controls, line separators and bidi overrides', () => {
    expect(normaliseUserAgent('a\u0085b\u009b31mc\u2028d\u202ee\u2066f')).toBe('ab31mcdef');
  });

  it('never splits a character when cutting', () => {
    const cut = normaliseUserAgent(`${'a'.repeat(USER_AGENT_MAX_LENGTH - 1)}\u{1F600}`);
    expect(cut).toBe('a'.repeat(USER_AGENT_MAX_LENGTH - 1));
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });
});

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

describe('UserAgentParser without a cache', () => {
  it('parses every time when the cache size is 0', () => {
    const parser = new UserAgentParser(0);
    const agent = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';
    const first = parser.parse(agent);
    expect(first.deviceName).toBe('Firefox 132 on Linux');
    expect(parser.parse(agent)).not.toBe(first);
  });
});

describe('UserAgentParser', () => {
  it('parses like describeUserAgent', () => {
    const parser = new UserAgentParser(10);
    for (const agent of [CHROME_MAC, SAFARI_IPHONE, SAFARI_IPAD, GOOGLEBOT, CURL, '', undefined]) {
      expect(parser.parse(agent)).toEqual(describeUserAgent(agent));
    }
  });

  it('returns the same object for a repeated agent', () => {
    const parser = new UserAgentParser(10);
    const first = parser.parse(CHROME_MAC);
    expect(parser.parse(CHROME_MAC)).toBe(first);
    expect(parser.parse(CHROME_MAC)).toBe(first);
  });

  it('returns different objects for different agents', () => {
    const parser = new UserAgentParser(10);
    const chrome = parser.parse(CHROME_MAC);
    const edge = parser.parse(EDGE_WINDOWS);
    expect(edge).not.toBe(chrome);
    expect(chrome.deviceName).toBe('Chrome 130 on macOS');
    expect(edge.deviceName).toBe('Microsoft Edge 130 on Windows');
  });

  it('caches by the normalised agent, so agents differing only in control characters share an entry', () => {
    const parser = new UserAgentParser(10);
    const plain = parser.parse(FIREFOX_LINUX);
    expect(parser.parse(`  ${FIREFOX_LINUX}\r\n`)).toBe(plain);
  });

  it('treats a missing and an empty agent as the same entry', () => {
    const parser = new UserAgentParser(10);
    const missing = parser.parse(undefined);
    expect(parser.parse('')).toBe(missing);
    expect(missing.deviceName).toBe(UNKNOWN_DEVICE_NAME);
  });

  it('keeps at most maxEntries agents and evicts the least recently used one', () => {
    const parser = new UserAgentParser(2);
    const chrome = parser.parse(CHROME_MAC);
    const firefox = parser.parse(FIREFOX_LINUX);
    expect(parser.parse(CHROME_MAC)).toBe(chrome);
    expect(parser.parse(FIREFOX_LINUX)).toBe(firefox);

    // A third agent pushes out the least recently used one (Chrome).
    const safari = parser.parse(SAFARI_IPHONE);
    expect(parser.parse(FIREFOX_LINUX)).toBe(firefox);
    expect(parser.parse(SAFARI_IPHONE)).toBe(safari);

    const chromeAgain = parser.parse(CHROME_MAC);
    expect(chromeAgain).not.toBe(chrome);
    expect(chromeAgain).toEqual(chrome);
  });

  it('evicts the first entry with max 2 when two more agents arrive without reuse', () => {
    const parser = new UserAgentParser(2);
    const first = parser.parse(CHROME_MAC);
    parser.parse(CHROME_WINDOWS);
    parser.parse(SAFARI_IPAD);
    const again = parser.parse(CHROME_MAC);
    expect(again).not.toBe(first);
    expect(again.deviceName).toBe('Chrome 130 on macOS');
  });

  it('a read refreshes an entry, so the other one is evicted instead', () => {
    const parser = new UserAgentParser(2);
    const chrome = parser.parse(CHROME_MAC);
    const windows = parser.parse(CHROME_WINDOWS);
    parser.parse(CHROME_MAC); // Chrome on macOS is now the most recently used.
    parser.parse(GOOGLEBOT);
    expect(parser.parse(CHROME_MAC)).toBe(chrome);
    expect(parser.parse(CHROME_WINDOWS)).not.toBe(windows);
  });

  it('cuts a 100 kB agent before caching it', () => {
    const parser = new UserAgentParser(10);
    const huge = CHROME_WINDOWS + 'z'.repeat(100 * 1024);
    const info = parser.parse(huge);
    expect(info.userAgent).toHaveLength(512);
    // Any agent with the same first 512 characters hits the same entry.
    expect(parser.parse(huge.slice(0, 600))).toBe(info);
  });
});
