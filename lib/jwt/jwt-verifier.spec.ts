import { UnauthorizedException } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceJwtOptions } from '../interfaces/device-tracker-options.interface.js';
import { JwtVerifier } from './jwt-verifier.js';

const SECRET = 'jwt-verifier-spec-secret';
const START = 1_800_000_000; // seconds since the epoch

/** A clock the test moves; jsonwebtoken reads it too (clockTimestamp), so no real time passes. */
function clockAt(seconds: number) {
  const clock = { seconds, now: () => clock.seconds * 1000 };
  return clock;
}

const sign = (claims: Record<string, unknown>) => jwt.sign({ iat: START, ...claims }, SECRET);

/** The message of the 401 `verify` throws, as the guard would answer it; `undefined` when it passes. */
function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof UnauthorizedException ? error.message : `not a 401: ${String(error)}`;
  }
}

describe('JwtVerifier', () => {
  let clock: ReturnType<typeof clockAt>;
  const verifier = (options: Partial<DeviceJwtOptions> = {}) => new JwtVerifier({ secret: SECRET, ...options }, clock);
  let verifications: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    clock = clockAt(START);
    verifications = vi.spyOn(jwt, 'verify');
  });
  afterEach(() => verifications.mockRestore());

  it('verifies a token once, then answers it from memory with a fresh copy of its claims each time', () => {
    const token = sign({ sub: 'alice', sid: 's1', nested: { roles: ['admin'] }, exp: START + 600 });
    const subject = verifier();
    const first = subject.verify(token);
    const second = subject.verify(token);
    expect(verifications).toHaveBeenCalledTimes(1);
    expect(second).toEqual(first);
    expect(second).toEqual({ sub: 'alice', sid: 's1', nested: { roles: ['admin'] }, iat: START, exp: START + 600 });
    // A handler that changes its request.user changes nothing for the next request with the same token.
    (first.nested as { roles: string[] }).roles.push('root');
    first.sub = 'mallory';
    expect(subject.verify(token)).toEqual(second);
  });

  it('still refuses a remembered token once its exp has passed, as jsonwebtoken would', () => {
    const token = sign({ sub: 'alice', exp: START + 600 });
    const subject = verifier();
    subject.verify(token);
    clock.seconds = START + 599;
    expect(refusal(() => subject.verify(token))).toBeUndefined();
    clock.seconds = START + 600;
    expect(refusal(() => subject.verify(token))).toBe('The access token has expired');
    // Forgotten once expired: the next attempt is verified again, and refused again.
    expect(refusal(() => subject.verify(token))).toBe('The access token has expired');
    expect(verifications).toHaveBeenCalledTimes(3);
  });

  it('allows clockTolerance seconds past exp, remembered or not', () => {
    const token = sign({ sub: 'alice', exp: START + 600 });
    const subject = verifier({ clockTolerance: 30 });
    subject.verify(token);
    clock.seconds = START + 629;
    expect(refusal(() => subject.verify(token))).toBeUndefined();
    clock.seconds = START + 630;
    expect(refusal(() => subject.verify(token))).toBe('The access token has expired');
  });

  it('remembers only tokens that passed: one not valid yet is verified again, and served once its nbf comes', () => {
    const token = sign({ sub: 'alice', nbf: START + 60, exp: START + 600 });
    const subject = verifier();
    expect(refusal(() => subject.verify(token))).toBe('The access token is not valid yet');
    clock.seconds = START + 60;
    expect(subject.verify(token)).toMatchObject({ sub: 'alice' });
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('never takes a token for a remembered one that differs in any character: each is verified on its own', () => {
    const token = sign({ sub: 'alice', exp: START + 600 });
    const subject = verifier();
    subject.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const forgeries = [
      `${header}.${payload}.${flipped}`,
      `${header}.${payload}.`,
      `${header}.${Buffer.from(JSON.stringify({ sub: 'mallory', exp: START + 600 })).toString('base64url')}.${signature}`,
    ];
    for (const forged of forgeries) expect(refusal(() => subject.verify(forged))).toBe('Invalid access token');
    expect(verifications).toHaveBeenCalledTimes(1 + forgeries.length);
  });

  it('keeps at most cacheSize tokens, the least recently used going first', () => {
    const tokens = ['a', 'b', 'c'].map((sub) => sign({ sub, exp: START + 600 }));
    const subject = verifier({ cacheSize: 2 });
    for (const token of tokens) subject.verify(token);
    expect(verifications).toHaveBeenCalledTimes(3);
    subject.verify(tokens[2]!);
    subject.verify(tokens[1]!);
    expect(verifications).toHaveBeenCalledTimes(3);
    subject.verify(tokens[0]!);
    expect(verifications).toHaveBeenCalledTimes(4);
  });

  it('with cacheSize 0, verifies every call', () => {
    const token = sign({ sub: 'alice', exp: START + 600 });
    const subject = verifier({ cacheSize: 0 });
    subject.verify(token);
    subject.verify(token);
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it.each([-1, 1.5, Number.NaN])('refuses cacheSize %s, naming the option', (cacheSize) => {
    expect(() => verifier({ cacheSize })).toThrow(
      new RegExp(`jwt\\.cacheSize must be a whole number >= 0 \\(got ${String(cacheSize)}\\)`),
    );
  });
});
