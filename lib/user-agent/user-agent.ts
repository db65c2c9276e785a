import Bowser from 'bowser';
import { LRUCache } from 'lru-cache';
import {
  DEVICE_NAME_MAX_LENGTH,
  SOFTWARE_NAME_MAX_LENGTH,
  UNKNOWN_DEVICE_NAME,
  USER_AGENT_MAX_LENGTH,
} from '../device-tracker.constants.js';

/** What kind of device an agent runs on, as bowser tells it; `'unknown'` when it cannot. */
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'tv', 'bot', 'unknown'] as const;

export type DeviceType = (typeof DEVICE_TYPES)[number];

/** What the module stores about a user agent. */
export interface UserAgentInfo {
  /** The agent as received, cut to {@link USER_AGENT_MAX_LENGTH} characters; empty when none was sent. */
  userAgent: string;
  /** A label a person recognises, e.g. "Chrome 130 on macOS". */
  deviceName: string;
  browser: string | null;
  os: string | null;
  deviceType: DeviceType;
}

/** The types bowser reports that the module keeps; anything else is `'unknown'`. */
const KNOWN_TYPES = new Set<string>(DEVICE_TYPES.filter((type) => type !== 'unknown'));

/** Control characters, line separators and bidi overrides: nothing a person should see in a device label or log. */
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Keeps printable characters only (agents are shown to people and must not carry control bytes into logs) and cuts
 * the agent to {@link USER_AGENT_MAX_LENGTH} without splitting a character.
 */
export function normaliseUserAgent(userAgent: string | undefined): string {
  const cut = (userAgent ?? '').replace(UNPRINTABLE, '').trim().slice(0, USER_AGENT_MAX_LENGTH);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function majorVersion(version: string | undefined): string | undefined {
  return version?.split('.')[0] || undefined;
}

/** Parses a raw `User-Agent` header. Never throws: a missing or unrecognised agent is an "Unknown device". */
export function describeUserAgent(rawUserAgent: string | undefined): UserAgentInfo {
  return describe(normaliseUserAgent(rawUserAgent));
}

function describe(userAgent: string): UserAgentInfo {
  const unknown: UserAgentInfo = {
    userAgent,
    deviceName: UNKNOWN_DEVICE_NAME,
    browser: null,
    os: null,
    deviceType: 'unknown',
  };
  if (!userAgent) return unknown;

  const parsed = Bowser.parse(userAgent);
  const browserName = parsed.browser.name || undefined;
  const osName = parsed.os.name || undefined;
  const browser = browserName && [browserName, majorVersion(parsed.browser.version)].filter(Boolean).join(' ');
  const platformType = parsed.platform.type ?? '';
  const deviceType = KNOWN_TYPES.has(platformType) ? (platformType as DeviceType) : 'unknown';
  // Some platforms (Tizen, KaiOS) report the same name for browser and OS: say it once.
  const deviceName = browser && osName && osName !== browserName ? `${browser} on ${osName}` : (browser ?? osName);

  // Catch-all parsing can take any product token as the browser name: cap every field at its column's size.
  return {
    ...unknown,
    deviceName: (deviceName || UNKNOWN_DEVICE_NAME).slice(0, DEVICE_NAME_MAX_LENGTH),
    browser: browserName?.slice(0, SOFTWARE_NAME_MAX_LENGTH) ?? null,
    os: osName?.slice(0, SOFTWARE_NAME_MAX_LENGTH) ?? null,
    deviceType,
  };
}

/** Longest agent cached as sent: a longer one is cut first, so nobody fills the cache with huge keys. */
const CACHED_AS_SENT = 2 * USER_AGENT_MAX_LENGTH;

/** {@link describeUserAgent} behind an LRU cache: a handful of agents make up most logins. */
export class UserAgentParser {
  private readonly cache?: LRUCache<string, UserAgentInfo>;

  /** @param maxEntries how many parsed agents to keep; `0` turns the cache off. */
  constructor(maxEntries: number) {
    if (maxEntries > 0) this.cache = new LRUCache({ max: maxEntries });
  }

  /**
   * An agent seen before, as sent, costs one lookup; cleaning it up is done on a miss, and agents that clean up alike
   * share the entry of their cleaned-up form.
   */
  parse(rawUserAgent: string | undefined): UserAgentInfo {
    const raw = rawUserAgent ?? '';
    const asSent = raw.length <= CACHED_AS_SENT ? this.cache?.get(raw) : undefined;
    if (asSent) return asSent;
    const userAgent = normaliseUserAgent(raw);
    let info = this.cache?.get(userAgent);
    if (!info) {
      info = describe(userAgent);
      this.cache?.set(userAgent, info);
    }
    if (raw !== userAgent && raw.length <= CACHED_AS_SENT) this.cache?.set(raw, info);
    return info;
  }
}
