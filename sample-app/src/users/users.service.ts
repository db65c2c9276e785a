import { Injectable, Logger, type OnApplicationBootstrap, ServiceUnavailableException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { hashPassword, verifyPassword } from './password.js';
import { User } from './user.entity.js';

/** Users to try the app with: two plain users and an administrator. */
export const DEMO_USERS = [
  { username: 'alice', password: 'alice-password', isAdmin: false },
  { username: 'bob', password: 'bob-password', isAdmin: false },
  { username: 'admin', password: 'admin-password', isAdmin: true },
] as const;

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const { username, password, isAdmin } of DEMO_USERS) {
      if (await this.users.existsBy({ username })) continue;
      await this.users.insert({ username, passwordHash: await hashPassword(password), isAdmin });
      this.logger.log(`Seeded demo user ${username}`);
    }
  }

  /**
   * The user with these credentials, or null.
   *
   * @throws ServiceUnavailableException when the users cannot be read.
   */
  async authenticate(username: string, password: string): Promise<User | null> {
    const user = await this.read(() => this.users.findOneBy({ username }), 'a user by name');
    return user && (await verifyPassword(password, user.passwordHash)) ? user : null;
  }

  /**
   * The user with this id, or null.
   *
   * @throws ServiceUnavailableException when the users cannot be read.
   */
  findById(id: number): Promise<User | null> {
    return this.read(() => this.users.findOneBy({ id }), `user ${id}`);
  }

  /** A read of the users table; when it fails, unknown is not refused: 503, as the device tracker answers. */
  private async read<T>(query: () => Promise<T>, what: string): Promise<T> {
    try {
      return await query();
    } catch (error) {
      this.logger.error(`Cannot look up ${what}: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Cannot check the user now; try again shortly');
    }
  }
}
