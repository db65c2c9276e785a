import { describe, expect, it } from 'vitest';
import { USER_AGENT_MAX_LENGTH } from '../device-tracker.constants.js';
import { normaliseUserAgent } from './user-agent.js';
import { CHROME_MAC, CURL } from './user-agent.fixtures.js';

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
