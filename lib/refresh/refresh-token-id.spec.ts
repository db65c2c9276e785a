import { createHash, randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { describe, expect, it } from 'vitest';
import { jwtStringClaim } from '../values/jwt-claims.js';
import { refreshTokenId as refreshTokenIdOf, refreshTokenIds, tryRefreshTokenIds } from './refresh-token-id.js';

const jwt = new JwtService({ secret: 'refresh-token-id-spec-secret' });

/** Ids with the default session claim: the tokens below carry none unless the test says so. */
const refreshTokenId = (tokenOrJti: string) =>
  refreshTokenIdOf(tokenOrJti, { sessionClaim: 'sid', storeRefreshTokenId: 'with-session' });

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const base64url = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** An unsigned JWT-shaped value with the given raw payload text. */
const fakeJwt = (payload: string, signature = 'c2lnbmF0dXJl') =>
  `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(payload)}.${signature}`;

describe('refreshTokenId', () => {
  describe('with a signed JWT', () => {
    it('stores the digest of the jti claim, never the token or the jti itself', () => {
      const jti = randomUUID();
      const token = jwt.sign({ sub: 42 }, { jwtid: jti, expiresIn: '30d' });
      const id = refreshTokenId(token);
      expect(id).toBe(sha256(jti));
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect(id).not.toContain(jti);
    });

    it('maps a token and its jti to the same id', () => {
      const token = jwt.sign({ sub: 'alice', jti: 'refresh-0001' });
      expect(refreshTokenId(token)).toBe(refreshTokenId('refresh-0001'));
    });

    it('gives two tokens with different jtis different ids', () => {
      expect(refreshTokenId(jwt.sign({ jti: 'a' }))).not.toBe(refreshTokenId(jwt.sign({ jti: 'b' })));
    });

    it('stores the digest of the whole token when there is no jti', () => {
      const token = jwt.sign({ sub: 42, type: 'refresh' });
      expect(refreshTokenId(token)).toBe(sha256(token));
      expect(refreshTokenId(jwt.sign({ sub: 1 }))).not.toBe(refreshTokenId(jwt.sign({ sub: 2 })));
    });

    it.each([
      ['an empty', ''],
      ['a numeric', 7],
      ['a null', null],
      ['an object', { id: 1 }],
    ])('falls back to the token digest for %s jti', (_label, jti) => {
      const token = fakeJwt(JSON.stringify({ sub: 1, jti }));
      expect(refreshTokenId(token)).toBe(sha256(token));
    });

    it('does not check the signature', () => {
      const forged = jwt.sign({ jti: 'same' }, { secret: 'another-secret' });
      expect(refreshTokenId(forged)).toBe(sha256('same'));
    });

    it('accepts an unsecured JWT with an empty signature segment', () => {
      expect(refreshTokenId(fakeJwt(JSON.stringify({ jti: 'u' }), ''))).toBe(sha256('u'));
    });

    it('trims whitespace around the token before reading it', () => {
      const token = jwt.sign({ jti: 'trimmed' });
      expect(refreshTokenId(`  ${token}\n`)).toBe(sha256('trimmed'));
    });
  });

  describe('with a JWT that carries the session claim', () => {
    it('is stored under the session, then its digest, so new sessions land at the end of the index', () => {
      const sid = '019afc4e-7b41-7c1a-9d2e-3f4a5b6c7d8e';
      const token = jwt.sign({ sub: 1, sid }, { jwtid: 'refresh-7' });
      expect(refreshTokenIds(token, 'sid')).toEqual([`${sid}/${sha256('refresh-7')}`, sha256('refresh-7')]);
      expect(refreshTokenId(token)).toBe(`${sid}/${sha256('refresh-7')}`);
    });

    it('reads the claim the module is told to read', () => {
      const token = jwt.sign({ sid: 'a', session_id: 'b', jti: 'j' });
      expect(refreshTokenIds(token, 'session_id')[0]).toBe(`b/${sha256('j')}`);
      expect(refreshTokenIds(jwt.sign({ sid: 'a', jti: 'j' }), 'session_id')).toEqual([sha256('j')]);
    });

    it('keeps the token digest, not the jti, when there is no jti', () => {
      const token = jwt.sign({ sid: 's' });
      expect(refreshTokenIds(token, 'sid')).toEqual([`s/${sha256(token)}`, sha256(token)]);
    });

    it('finds a token stored by its jti alone: its bare digest is its second id', () => {
      const token = jwt.sign({ sid: 's', jti: 'j' });
      expect(refreshTokenIds(token, 'sid')).toContain(refreshTokenId('j'));
    });

    it.each([
      ['an empty', ''],
      ['a numeric', 7],
      ['an object', { id: 's' }],
      ['an over-long', 's'.repeat(191)],
    ])('stores only the digest for %s session claim', (_label, sid) => {
      const token = fakeJwt(JSON.stringify({ sid, jti: 'j' }));
      expect(refreshTokenIds(token, 'sid')).toEqual([sha256('j')]);
    });

    it('fits the column: the longest session claim kept, its separator and the digest make 255 characters', () => {
      const id = refreshTokenId(fakeJwt(JSON.stringify({ sid: 's'.repeat(190), jti: 'j' })));
      expect(id).toHaveLength(255);
    });

    it('does not read inherited properties as the session claim', () => {
      expect(refreshTokenIds(fakeJwt(JSON.stringify({ jti: 'j' })), 'constructor')).toEqual([sha256('j')]);
    });

    it("stores the bare digest with storeRefreshTokenId: 'digest', as 0.4 did", () => {
      const token = jwt.sign({ sid: 's', jti: 'j' });
      expect(refreshTokenIdOf(token, { sessionClaim: 'sid', storeRefreshTokenId: 'digest' })).toBe(sha256('j'));
    });
  });

  describe('with a jti or an opaque token', () => {
    it('stores its digest, so an opaque secret is never written as it is', () => {
      const opaque = 'rt_' + 'x'.repeat(40);
      expect(refreshTokenId(opaque)).toBe(sha256(opaque));
      expect(refreshTokenId(opaque)).not.toContain('rt_');
    });

    it('trims surrounding whitespace', () => {
      expect(refreshTokenId('  abc  ')).toBe(sha256('abc'));
    });

    it('gives a fixed-size id however long the value', () => {
      expect(refreshTokenId('y'.repeat(10_000))).toHaveLength(64);
    });

    it('treats values that are not three segments as plain ids', () => {
      expect(refreshTokenId('abc.def')).toBe(sha256('abc.def'));
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

describe('tryRefreshTokenIds', () => {
  it('answers undefined for what cannot be read, rather than throwing', () => {
    expect(tryRefreshTokenIds('  ', 'sid')).toBeUndefined();
    expect(tryRefreshTokenIds(fakeJwt('[1]'), 'sid')).toBeUndefined();
    expect(tryRefreshTokenIds('jti-1', 'sid')).toEqual([sha256('jti-1')]);
  });
});

describe('jwtStringClaim', () => {
  describe('with a token shaped like a JWT', () => {
    it('reads a string claim, such as the session the token was signed with', () => {
      const sid = randomUUID();
      const token = jwt.sign({ sub: 42, sid }, { jwtid: randomUUID() });
      expect(jwtStringClaim(token, 'sid')).toBe(sid);
      expect(jwtStringClaim(token, 'jti')).toEqual(expect.any(String));
    });

    it('reads whichever claim is asked for', () => {
      const token = jwt.sign({ sid: 'session-1', session_id: 'session-2' });
      expect(jwtStringClaim(token, 'sid')).toBe('session-1');
      expect(jwtStringClaim(token, 'session_id')).toBe('session-2');
    });

    it('does not check the signature', () => {
      const forged = jwt.sign({ sid: 'session-1' }, { secret: 'another-secret' });
      expect(jwtStringClaim(forged, 'sid')).toBe('session-1');
      expect(jwtStringClaim(fakeJwt(JSON.stringify({ sid: 'unsigned' }), ''), 'sid')).toBe('unsigned');
    });

    it('trims whitespace around the token', () => {
      expect(jwtStringClaim(`  ${jwt.sign({ sid: 'trimmed' })}\n`, 'sid')).toBe('trimmed');
    });

    it('returns undefined for a claim the token does not carry', () => {
      expect(jwtStringClaim(jwt.sign({ sub: 1 }), 'sid')).toBeUndefined();
    });

    it('does not read inherited properties as claims', () => {
      const token = fakeJwt(JSON.stringify({ sub: 1 }));
      expect(jwtStringClaim(token, 'constructor')).toBeUndefined();
      expect(jwtStringClaim(token, 'toString')).toBeUndefined();
      expect(jwtStringClaim(token, '__proto__')).toBeUndefined();
    });

    it.each([
      ['an empty string', ''],
      ['a number', 7],
      ['a boolean', true],
      ['null', null],
      ['an object', { id: 's' }],
      ['an array', ['s']],
    ])('returns undefined for a claim that is %s', (_label, sid) => {
      expect(jwtStringClaim(fakeJwt(JSON.stringify({ sid })), 'sid')).toBeUndefined();
    });
  });

  describe('with anything else', () => {
    it.each([
      ['a jti', randomUUID()],
      ['an opaque token', 'rt_' + 'x'.repeat(40)],
      ['two segments', 'abc.def'],
      ['five segments (JWE)', Array.from({ length: 5 }, () => 'x'.repeat(20)).join('.')],
      ['an empty string', ''],
      ['whitespace', '   '],
    ])('returns undefined for %s', (_label, value) => {
      expect(jwtStringClaim(value, 'sid')).toBeUndefined();
    });

    it.each([
      ['not JSON', `${base64url('{}')}.${base64url('not json')}.c2ln`],
      ['truncated JSON', `${base64url('{}')}.${base64url('{"sid":"abc"')}.c2ln`],
      ['a JSON string', fakeJwt('"sid"')],
      ['JSON null', fakeJwt('null')],
      ['a JSON array', fakeJwt('["sid"]')],
      ['a JSON number', fakeJwt('12')],
    ])('returns undefined, without throwing, for a JWT-shaped value whose payload is %s', (_label, token) => {
      expect(() => jwtStringClaim(token, 'sid')).not.toThrow();
      expect(jwtStringClaim(token, 'sid')).toBeUndefined();
    });
  });
});
