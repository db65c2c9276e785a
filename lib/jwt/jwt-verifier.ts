import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { UnauthorizedException } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DEFAULTS } from '../device-tracker.defaults.js';
import { invalid } from '../device-tracker.options.js';
import type { Clock } from '../interfaces/clock.interface.js';
import type {
  DeviceJwtOptions,
  DeviceTrackerModuleOptions,
  JwtAlgorithm,
} from '../interfaces/device-tracker-options.interface.js';

const require = createRequire(import.meta.url);

/** The module's verifier of access tokens under the `jwt` option; `null` without it. */
export const JWT_VERIFIER = Symbol('JWT_VERIFIER');

/** The claims of a verified access token. */
export type JwtClaims = Record<string, unknown>;

/** What is used of jsonwebtoken, typed here so that hosts need not install its types. */
interface Jsonwebtoken {
  verify(token: string, key: KeyObject, options: VerifyOptions): unknown;
}

interface VerifyOptions {
  algorithms: JwtAlgorithm[];
  clockTolerance: number;
  /** Now, in seconds since the epoch: the module's clock, so that tests can move time on. */
  clockTimestamp?: number;
  issuer?: string | [string, ...string[]];
  audience?: string | [string, ...string[]];
}

const HMAC: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC: readonly JwtAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
];

/** What a token that jsonwebtoken refused is answered with: the kind of fault, never the token. */
const REFUSALS: Record<string, string> = {
  TokenExpiredError: 'The access token has expired',
  NotBeforeError: 'The access token is not valid yet',
};

/** A token that passed every check: its claims as JSON (each request gets its own copy) and when it expires. */
interface Verified {
  json: string;
  exp: number | undefined;
}

/**
 * Verifies access tokens with jsonwebtoken, as passport-jwt does, on a key built once: given a string, jsonwebtoken
 * builds a key object again on every call, which costs more than the rest of the verification. jose was measured
 * too: its WebCrypto HMAC took about four times as long in Node 20 (bench/RESULTS.md).
 *
 * A client sends the same access token with every request until it expires, so the tokens that passed are
 * remembered (`jwt.cacheSize`), by their whole text: a token seen again skips the signature, algorithm, `iss` and `aud`
 * checks, whose answer cannot change, and is still refused once its `exp` has passed, as jsonwebtoken would refuse it.
 */
export class JwtVerifier {
  /** The verifier for the module's `jwt` option, or `null` when it is not set. */
  static fromOptions({ jwt }: DeviceTrackerModuleOptions, clock: Clock): JwtVerifier | null {
    return jwt === undefined ? null : new JwtVerifier(jwt, clock);
  }

  private readonly jwt: Jsonwebtoken;
  private readonly key: KeyObject;
  private readonly verifyOptions: VerifyOptions;
  private readonly verified: LRUCache<string, Verified> | undefined;

  constructor(
    options: DeviceJwtOptions,
    private readonly clock: Clock,
  ) {
    this.jwt = loadJsonwebtoken();
    const cacheSize = options.cacheSize ?? DEFAULTS.jwtCacheSize;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      invalid(`jwt.cacheSize must be a whole number >= 0 (got ${String(options.cacheSize)})`);
    }
    this.verified = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
    const { key, algorithms } = keyAndAlgorithms(options);
    this.key = key;
    const clockTolerance = options.clockTolerance ?? DEFAULTS.jwtClockTolerance;
    if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
      invalid(`jwt.clockTolerance must be a number of seconds >= 0 (got ${String(options.clockTolerance)})`);
    }
    this.verifyOptions = {
      algorithms,
      clockTolerance,
      ...(options.issuer !== undefined && { issuer: nonEmpty('jwt.issuer', options.issuer) }),
      ...(options.audience !== undefined && { audience: nonEmpty('jwt.audience', options.audience) }),
    };
  }

  /**
   * The token's claims once its signature, algorithm, `exp`, `nbf` and (when configured) `iss` and `aud` pass.
   *
   * @throws UnauthorizedException saying what kind of fault it found, never quoting the token.
   */
  verify(token: string): JwtClaims {
    const now = Math.floor(this.clock.now() / 1000);
    const known = this.verified?.get(token);
    if (known) {
      if (known.exp === undefined || now < known.exp + this.verifyOptions.clockTolerance) {
        return JSON.parse(known.json) as JwtClaims;
      }
      this.verified!.delete(token);
    }
    let payload: unknown;
    try {
      payload = this.jwt.verify(token, this.key, { ...this.verifyOptions, clockTimestamp: now });
    } catch (error) {
      // jsonwebtoken's own reason goes along as the cause, for a subclass that logs it; the answer names the kind only.
      throw new UnauthorizedException(REFUSALS[(error as Error).name] ?? 'Invalid access token', { cause: error });
    }
    // A signed string rather than a claims object: jsonwebtoken accepts it, an access token it is not.
    if (typeof payload !== 'object' || payload === null) throw new UnauthorizedException('Invalid access token');
    const { exp } = payload as { exp?: number };
    this.verified?.set(token, { json: JSON.stringify(payload), exp });
    return payload as JwtClaims;
  }
}

function loadJsonwebtoken(): Jsonwebtoken {
  try {
    return require('jsonwebtoken') as Jsonwebtoken;
  } catch {
    invalid('jwt needs the jsonwebtoken package (npm install jsonwebtoken), which @nestjs/jwt and passport-jwt use');
  }
}

function keyAndAlgorithms(options: DeviceJwtOptions): { key: KeyObject; algorithms: JwtAlgorithm[] } {
  const { secret, publicKey } = options;
  if ((secret === undefined) === (publicKey === undefined)) invalid('jwt needs exactly one of secret and publicKey');
  const allowed = secret !== undefined ? HMAC : ASYMMETRIC;
  const algorithms = options.algorithms ?? (secret !== undefined ? [DEFAULTS.jwtAlgorithm] : undefined);
  if (!algorithms) invalid(`jwt.algorithms is required with publicKey: one or more of ${ASYMMETRIC.join(', ')}`);
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((name) => allowed.includes(name))) {
    invalid(
      `jwt.algorithms must be one or more of ${allowed.join(', ')} with ${secret !== undefined ? 'secret' : 'publicKey'}`,
    );
  }
  try {
    const key = secret !== undefined ? secretKey(secret) : publicKeyOf(publicKey!);
    return { key, algorithms };
  } catch (error) {
    invalid(`jwt.${secret !== undefined ? 'secret' : 'publicKey'} is not a usable key: ${(error as Error).message}`);
  }
}

function secretKey(secret: string | Buffer | KeyObject): KeyObject {
  if (secret instanceof KeyObject) {
    if (secret.type !== 'secret') throw new Error('a secret KeyObject is needed');
    return secret;
  }
  if (typeof secret === 'string' ? secret.length === 0 : !Buffer.isBuffer(secret) || secret.length === 0) {
    throw new Error('it is empty');
  }
  return createSecretKey(typeof secret === 'string' ? Buffer.from(secret) : secret);
}

function publicKeyOf(key: string | Buffer | KeyObject): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'public') throw new Error('a public KeyObject is needed');
    return key;
  }
  return createPublicKey(key);
}

function nonEmpty(name: string, value: string | string[]): string | [string, ...string[]] {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || !values.every((item) => typeof item === 'string' && item.length > 0)) {
    invalid(`${name} must be a non-empty string or array of them`);
  }
  return value as string | [string, ...string[]];
}
