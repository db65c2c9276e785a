import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type FindOptionsWhere, In, IsNull, LessThan, MoreThanOrEqual, Not, type Repository } from 'typeorm';
import { DEVICE_TABLE } from './device-table.js';
import { Device } from './device.entity.js';
import { type LoginValues, LoginStatements } from './login-statements.js';
import { StatementRunner } from './statement-runner.js';
import { WriteBatcher } from './write-batcher.js';

/** A page as the store reads it: at most `limit` rows after skipping `offset`. */
export interface StorePage {
  limit?: number;
  offset: number;
}

/** Every user's devices that match all the criteria given (admin search). */
export interface StoreSearch {
  userId?: string;
  isActive?: boolean;
  ipAddress?: string;
  seenSince?: Date;
}

/** What `pruneBatch` deletes: devices unseen since `unseenBefore`, or logged out before `loggedOutBefore`. */
export interface PruneCutoffs {
  unseenBefore: Date;
  loggedOutBefore: Date;
}

/** The columns the session check reads. */
export type SessionRow = Pick<Device, 'id' | 'userId' | 'sessionId' | 'isActive'>;

/** Columns of a row to write, as plain values. */
export type DeviceChanges = Partial<Device>;

/** Most new devices written by one statement: as many as logins a busy instance answers at once. */
const INSERT_BATCH_ROWS = 50;

const NEWEST_FIRST = { lastSeenAt: 'DESC', createdAt: 'DESC', id: 'ASC' } as const;

/**
 * The devices table's rows. The only code that reads or writes them: every other class asks in plain values and gets
 * rows back (the schema is device-table.ts's).
 * Conditional updates answer how many rows they changed, which is how the callers close their races.
 */
@Injectable()
export class DeviceStore {
  private readonly logins: LoginStatements;
  private readonly newDevices: WriteBatcher<Device>;

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly statements: StatementRunner,
    // Built only once the table is ready: nothing reads or writes it before.
    @Inject(DEVICE_TABLE) _ready: true,
  ) {
    this.logins = new LoginStatements(devices.manager.connection, devices.metadata);
    this.newDevices = new WriteBatcher((rows) => this.statements.run(this.logins.insert(rows)), INSERT_BATCH_ROWS);
  }

  /** A new device not yet written, from a login. The entity has plain columns only: `Repository.create` would match. */
  build(id: string, userId: string, createdAt: Date, login: LoginValues): Device {
    const device = new Device();
    device.id = id;
    device.userId = userId;
    device.createdAt = createdAt;
    return Object.assign(device, login);
  }

  /** `device` with the login's values applied, as the row reads once they are written. */
  merge(device: Device, changes: Partial<Device>): Device {
    return Object.assign(device, changes);
  }

  findById(id: string): Promise<Device | null> {
    return this.devices.findOneBy({ id });
  }

  findBySession(sessionId: string): Promise<Device | null> {
    return this.devices.findOneBy({ sessionId });
  }

  sessionRow(sessionId: string): Promise<SessionRow | null> {
    return this.devices.findOne({
      select: { id: true, userId: true, sessionId: true, isActive: true },
      where: { sessionId },
    });
  }

  /** The device whose current or concurrent refresh token is one of `ids` (the ids of one token). */
  findByIssuedToken(ids: readonly string[]): Promise<Device | null> {
    const id = oneOf(ids);
    return this.devices.findOne({ where: [{ refreshTokenJti: id }, { concurrentRefreshTokenJti: id }] });
  }

  /** The device whose replaced or concurrent refresh token is one of `ids` (the ids of one token). */
  findByReplacedToken(ids: readonly string[]): Promise<Device | null> {
    const id = oneOf(ids);
    return this.devices.findOne({ where: [{ previousRefreshTokenJti: id }, { concurrentRefreshTokenJti: id }] });
  }

  hasActiveRefreshToken(ids: readonly string[]): Promise<boolean> {
    return this.devices.existsBy({ refreshTokenJti: oneOf(ids), isActive: true });
  }

  /** The user's devices, most recently seen first. */
  listByUser(userId: string, page: StorePage): Promise<Device[]> {
    return this.devices.find({ where: { userId }, order: NEWEST_FIRST, ...this.page(page) });
  }

  /** The user's active devices, but `exceptId`, most recently seen first. */
  activeDevices(userId: string, exceptId?: string): Promise<Device[]> {
    return this.devices.find({
      where: { userId, isActive: true, ...(exceptId ? { id: Not(exceptId) } : {}) },
      order: NEWEST_FIRST,
    });
  }

  search({ userId, isActive, ipAddress, seenSince }: StoreSearch, page: StorePage): Promise<[Device[], number]> {
    const where: FindOptionsWhere<Device> = {};
    if (userId !== undefined) where.userId = userId;
    if (isActive !== undefined) where.isActive = isActive;
    if (ipAddress !== undefined) where.ipAddress = ipAddress;
    if (seenSince !== undefined) where.lastSeenAt = MoreThanOrEqual(seenSince);
    return this.devices.findAndCount({ where, order: NEWEST_FIRST, ...this.page(page) });
  }

  /** Writes a new device: one statement, shared with the other logins written at the same moment. */
  insert(device: Device): Promise<void> {
    return this.newDevices.add(device);
  }

  /** Writes a login over the user's own device, in one prepared statement; 0 when it is gone or not theirs. */
  updateOwned(id: string, userId: string, login: LoginValues): Promise<number> {
    return this.statements.run(this.logins.update(id, userId, login));
  }

  update(id: string, changes: DeviceChanges): Promise<number> {
    return this.affected(this.devices.update({ id }, changes));
  }

  /** Logs the device out if it is still active on `sessionId`: a login that moved it to another session wins. */
  logoutOnSession(id: string, sessionId: string | null, changes: DeviceChanges): Promise<number> {
    return this.affected(this.devices.update({ id, isActive: true, sessionId: sessionId ?? IsNull() }, changes));
  }

  deleteOwned(id: string, userId: string): Promise<number> {
    return this.affected(this.devices.delete({ id, userId }));
  }

  /** Moves the active device whose current refresh token is one of `ids`; 0 when no device has it as current. */
  updateByCurrentToken(ids: readonly string[], changes: DeviceChanges): Promise<number> {
    return this.affected(this.devices.update({ refreshTokenJti: oneOf(ids), isActive: true }, changes));
  }

  /** Updates the device if it is still active with `refreshTokenJti` as its current token. */
  updateIfCurrent(id: string, refreshTokenJti: string, changes: DeviceChanges): Promise<number> {
    return this.affected(this.devices.update({ id, isActive: true, refreshTokenJti }, changes));
  }

  /** Records a request of an active device unless one after `notSeenSince` was recorded already. */
  async recordSeen(id: string, ipAddress: string | null, seenAt: Date, notSeenSince: Date): Promise<void> {
    await this.devices.update(
      { id, isActive: true, lastSeenAt: LessThan(notSeenSince) },
      { lastSeenAt: seenAt, ipAddress },
    );
  }

  /** Up to `limit` devices the cut-offs make prunable. */
  prunable(
    { unseenBefore, loggedOutBefore }: PruneCutoffs,
    limit: number,
  ): Promise<Pick<Device, 'id' | 'sessionId' | 'isActive'>[]> {
    return this.devices.find({
      select: { id: true, sessionId: true, isActive: true },
      where: this.prunableWhere(unseenBefore, loggedOutBefore),
      take: limit,
    });
  }

  /**
   * Deletes those of `ids` the cut-offs still make prunable (a login may have brought one back since it was read)
   * and answers how many rows it deleted and which of `ids` are left. One statement: two deletes of the same rows on
   * two connections deadlock each other on InnoDB.
   */
  async deletePrunable(
    ids: string[],
    { unseenBefore, loggedOutBefore }: PruneCutoffs,
  ): Promise<{ deleted: number; kept: Set<string> }> {
    const where = this.prunableWhere(unseenBefore, loggedOutBefore).map((criteria) => ({ id: In(ids), ...criteria }));
    const deleted = await this.affected(this.devices.delete(where));
    const kept = await this.devices.find({ select: { id: true }, where: { id: In(ids) } });
    return { deleted, kept: new Set(kept.map((device) => device.id)) };
  }

  private prunableWhere(unseenBefore: Date, loggedOutBefore: Date): FindOptionsWhere<Device>[] {
    return [{ lastSeenAt: LessThan(unseenBefore) }, { isActive: false, revokedAt: LessThan(loggedOutBefore) }];
  }

  /** MySQL has no OFFSET without LIMIT: skip only when there is something to skip, with a limit then. */
  private page({ limit, offset }: StorePage): { take?: number; skip?: number } {
    return offset > 0 ? { skip: offset, take: limit ?? Number.MAX_SAFE_INTEGER } : { take: limit };
  }

  private async affected(result: Promise<{ affected?: number | null }>): Promise<number> {
    return (await result).affected ?? 0;
  }
}

/** A token's one id, or any of its ids: a token may be stored under two (see `refreshTokenIds`). */
function oneOf(ids: readonly string[]) {
  return ids.length === 1 ? ids[0] : In([...ids]);
}
