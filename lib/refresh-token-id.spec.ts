import { createHash, randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { describe, expect, it } from 'vitest';
import { refreshTokenId } from './refresh-token-id.js';

const jwt = new JwtService({ secret: 'refresh-token-id-spec-secret' });

const sha256 = (value: string) => `sha256:${createHash('sha256').update(value).digest('hex')}`;

const base64url = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** An unsigned JWT-shaped value with the given raw payload text. */
const fakeJwt = (payload: string, signature = 'c2lnbmF0dXJl') =>
  `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(payload)}.${signature}`;

describe('refreshTokenId', () => {
  describe('with a signed JWT', () => {
    it('returns the jti claim', () => {
      const jti = randomUUID();
      const token = jwt.sign({ sub: 42 }, { jwtid: jti, expiresIn: '30d' });
      expect(refreshTokenId(token)).toBe(jti);
    });

    it('returns a jti placed in the payload directly', () => {
      const token = jwt.sign({ sub: 'alice', jti: 'refresh-0001' });
      expect(refreshTokenId(token)).toBe('refresh-0001');
    });

    it('returns the SHA-256 digest of the token when there is no jti', () => {
      const token = jwt.sign({ sub: 42, type: 'refresh' });
      const id = refreshTokenId(token);
      expect(id).toBe(sha256(token));
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(id).not.toContain(token);
    });

    it('gives different tokens without a jti different ids', () => {
      const first = jwt.sign({ sub: 1 });
      const second = jwt.sign({ sub: 2 });
      expect(refreshTokenId(first)).not.toBe(refreshTokenId(second));
    });

    it('gives the same token the same id every time', () => {
      const token = jwt.sign({ sub: 7 });
      expect(refreshTokenId(token)).toBe(refreshTokenId(token));
    });

    it('does not check the signature', () => {
      const token = jwt.sign({ sub: 1, jti: 'abc-123' });
      const [header, payload] = token.split('.');
      expect(refreshTokenId(`${header}.${payload}.forged-signature`)).toBe('abc-123');
    });

    it('accepts an unsecured JWT with an empty signature segment', () => {
      expect(refreshTokenId(fakeJwt(JSON.stringify({ jti: 'no-signature' }), ''))).toBe('no-signature');
    });

    it('trims whitespace around the token before reading it', () => {
      const withJti = jwt.sign({ sub: 1 }, { jwtid: 'trimmed-jti' });
      expect(refreshTokenId(`  ${withJti}\n`)).toBe('trimmed-jti');

      const withoutJti = jwt.sign({ sub: 1 });
      expect(refreshTokenId(`\t${withoutJti}  `)).toBe(sha256(withoutJti));
    });

    it.each([
      ['an empty jti', { jti: '' }],
      ['a numeric jti', { jti: 12345 }],
      ['a null jti', { jti: null }],
      ['an object jti', { jti: { id: 'x' } }],
      ['a jti longer than 255 characters', { jti: 'j'.repeat(256) }],
    ])('falls back to the digest for %s', (_label, payload) => {
      const token = fakeJwt(JSON.stringify(payload));
      expect(refreshTokenId(token)).toBe(sha256(token));
    });

    it('keeps a jti of exactly 255 characters', () => {
      const jti = 'j'.repeat(255);
      expect(refreshTokenId(fakeJwt(JSON.stringify({ jti })))).toBe(jti);
    });

    it('reads a jti with non-ASCII characters', () => {
      expect(refreshTokenId(fakeJwt(JSON.stringify({ jti: 'sessión-😀' })))).toBe('sessión-😀');
    });
  });

  describe('with a plain jti', () => {
    it('returns the value as it is', () => {
      const jti = randomUUID();
      expect(refreshTokenId(jti)).toBe(jti);
      expect(refreshTokenId('refresh-token-0001')).toBe('refresh-token-0001');
    });

    it('trims surrounding whitespace', () => {
      expect(refreshTokenId('  abc-123 \n')).toBe('abc-123');
    });

    it('returns an id of exactly 255 characters as it is', () => {
      const id = 'a'.repeat(255);
      expect(refreshTokenId(id)).toBe(id);
    });

    it('returns the digest of an id longer than 255 characters', () => {
      const id = 'a'.repeat(256);
      expect(refreshTokenId(id)).toBe(sha256(id));
      const opaque = 'opaque-token-' + 'x'.repeat(1000);
      expect(refreshTokenId(opaque)).toBe(sha256(opaque));
    });

    it('measures the length after trimming', () => {
      const id = 'b'.repeat(255);
      expect(refreshTokenId(`   ${id}   `)).toBe(id);
    });

    it('treats a value with only two segments as a plain id', () => {
      expect(refreshTokenId('abc.def')).toBe('abc.def');
    });

    it('treats a five-segment JWE-like value as a plain id (digest when long)', () => {
      const jwe = Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.');
      expect(refreshTokenId(jwe)).toBe(sha256(jwe));
    });
  });

  describe('errors', () => {
    it.each(['', '   ', '\n\t '])('throws for an empty value %j', (value) => {
      expect(() => refreshTokenId(value)).toThrow('Refresh token is empty');
    });

    it('throws for a JWT-shaped value whose payload is not JSON', () => {
      const token = `${base64url('{"alg":"HS256"}')}.${base64url('not json at all')}.c2ln`;
      expect(() => refreshTokenId(token)).toThrow('Refresh token looks like a JWT but its payload cannot be decoded');
    });

    it('throws for a JWT-shaped value whose payload is truncated JSON', () => {
      const token = jwt.sign({ sub: 1, jti: 'x' });
      const [header, payload, signature] = token.split('.');
      expect(() => refreshTokenId(`${header}.${payload!.slice(0, 10)}.${signature}`)).toThrow(
        /payload cannot be decoded/,
      );
    });

    it.each([
      ['a number', '123'],
      ['a string', '"jti"'],
      ['null', 'null'],
      ['a boolean', 'true'],
      ['an array', '[1,2]'],
    ])('throws for a JWT-shaped value whose payload is %s', (_label, payload) => {
      expect(() => refreshTokenId(fakeJwt(payload))).toThrow(
        'Refresh token looks like a JWT but its payload is not an object',
      );
    });

    it('never puts the token itself in the error message', () => {
      const token = `${base64url('{}')}.${base64url('secret-material')}.sig`;
      let message = '';
      try {
        refreshTokenId(token);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/payload cannot be decoded/);
      expect(message).not.toContain(token);
      expect(message).not.toContain('secret-material');
    });
  });
});
