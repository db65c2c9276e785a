import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { hashPassword, verifyPassword } from './password.js';
import { User } from './user.entity.js';

/** Two users to try the app with. */
export const DEMO_USERS = [
  { username: 'alice', password: 'alice-password' },
  { username: 'bob', password: 'bob-password' },
] as const;

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const { username, password } of DEMO_USERS) {
      if (await this.users.existsBy({ username })) continue;
      await this.users.insert({ username, passwordHash: await hashPassword(password) });
      this.logger.log(`Seeded demo user ${username}`);
    }
  }

  /** The user with these credentials, or null. */
  async authenticate(username: string, password: string): Promise<User | null> {
    const user = await this.users.findOneBy({ username });
    return user && (await verifyPassword(password, user.passwordHash)) ? user : null;
  }

  findById(id: number): Promise<User | null> {
    return this.users.findOneBy({ id });
  }
}
