import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keyLength: number) => Promise<Buffer>;

/** The bench's users: `user0` … `user19`, password `password`. */
export const BENCH_USERS = Array.from({ length: 20 }, (_, index) => `user${index}`);
export const BENCH_PASSWORD = 'password';

/** In memory, so a login costs what the tracker adds plus, on the password routes, one scrypt like the sample app's. */
export class BenchUsers {
  private readonly hashes = new Map<string, { salt: Buffer; key: Buffer }>();

  /** Hashes the passwords side by side (libuv's threads), so an app start waits for them less. */
  async init(): Promise<void> {
    await Promise.all(
      BENCH_USERS.map(async (username) => {
        const salt = randomBytes(16);
        this.hashes.set(username, { salt, key: await scrypt(BENCH_PASSWORD, salt, 32) });
      }),
    );
  }

  exists(username: unknown): username is string {
    return typeof username === 'string' && this.hashes.has(username);
  }

  async verify(username: string, password: string): Promise<boolean> {
    const hash = this.hashes.get(username);
    if (!hash) return false;
    return timingSafeEqual(await scrypt(password, hash.salt, 32), hash.key);
  }
}
