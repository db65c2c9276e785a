import { describe, expect, it } from 'vitest';
import { UNKNOWN_DEVICE_NAME } from '../device-tracker.constants.js';
import { describeUserAgent, UserAgentParser } from './user-agent.js';
import {
  CHROME_MAC,
  CHROME_WINDOWS,
  CURL,
  EDGE_WINDOWS,
  FIREFOX_LINUX,
  GOOGLEBOT,
  SAFARI_IPAD,
  SAFARI_IPHONE,
} from './user-agent.fixtures.js';

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
