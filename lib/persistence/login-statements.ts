import type { DataSource, EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { Device } from './device.entity.js';

/** The SQL text of a statement and its values, in the driver's own form. */
export interface Statement {
  sql: string;
  parameters: unknown[];
}

/** The columns a login writes over its device: what it says about the client and the session, not who owns it. */
const LOGIN_COLUMNS = [
  'userAgent',
  'deviceName',
  'browser',
  'os',
  'deviceType',
  'ipAddress',
  'sessionId',
  'refreshTokenJti',
  'previousRefreshTokenJti',
  'concurrentRefreshTokenJti',
  'refreshTokenRotatedAt',
  'isActive',
  'revokedAt',
  'lastLoginAt',
  'lastSeenAt',
] as const satisfies readonly (keyof Device)[];

/** The values a login writes over its device. */
export type LoginValues = Pick<Device, (typeof LOGIN_COLUMNS)[number]>;

/**
 * The two statements of a login, written once from the entity's metadata: the SQL text is fixed (per number of rows
 * for inserts) and the values go through the driver's own conversion (dates, booleans), as TypeORM's query builder
 * converts them. Building the query with TypeORM took about as long as the rest of a login.
 *
 * On PostgreSQL an insert has one text whatever its number of rows: each column goes as one array, through `unnest`.
 * The server parsed a batch's hundreds of placeholders again at every batch, a third of its time per row.
 */
export class LoginStatements {
  private readonly columns: ColumnMetadata[];
  private readonly loginColumns: ColumnMetadata[];
  private readonly table: string;
  private readonly insertColumns: string;
  private readonly inserts = new Map<number, string>();
  private readonly updateSql: string;
  private readonly unnestSql: string | undefined;

  constructor(
    private readonly dataSource: DataSource,
    metadata: EntityMetadata,
  ) {
    const escape = (name: string) => dataSource.driver.escape(name);
    this.columns = metadata.columns;
    this.loginColumns = LOGIN_COLUMNS.map((property) => metadata.findColumnWithPropertyName(property)!);
    this.table = metadata.tablePath.split('.').map(escape).join('.');
    this.insertColumns = this.columns.map((column) => escape(column.databaseName)).join(', ');
    if (dataSource.driver.options.type === 'postgres') {
      const arrays = this.columns.map(
        (column, i) => `${this.placeholder(i + 1)}::${dataSource.driver.normalizeType(column)}[]`,
      );
      this.unnestSql = `INSERT INTO ${this.table} (${this.insertColumns}) SELECT * FROM unnest(${arrays.join(', ')})`;
    }
    const id = metadata.findColumnWithPropertyName('id')!;
    const userId = metadata.findColumnWithPropertyName('userId')!;
    let index = 0;
    const sets = this.loginColumns.map((column) => `${escape(column.databaseName)} = ${this.placeholder(++index)}`);
    this.updateSql =
      `UPDATE ${this.table} SET ${sets.join(', ')} ` +
      `WHERE ${escape(id.databaseName)} = ${this.placeholder(++index)} ` +
      `AND ${escape(userId.databaseName)} = ${this.placeholder(++index)}`;
  }

  /** One statement inserting every row of `devices`. */
  insert(devices: Device[]): Statement {
    if (this.unnestSql !== undefined) {
      const parameters = this.columns.map((column) => devices.map((device) => this.valueOf(column, device)));
      return { sql: this.unnestSql, parameters };
    }
    let sql = this.inserts.get(devices.length);
    if (sql === undefined) {
      let index = 0;
      const row = () => `(${this.columns.map(() => this.placeholder(++index)).join(', ')})`;
      sql = `INSERT INTO ${this.table} (${this.insertColumns}) VALUES ${devices.map(row).join(', ')}`;
      this.inserts.set(devices.length, sql);
    }
    const parameters: unknown[] = [];
    for (const device of devices) {
      for (const column of this.columns) parameters.push(this.valueOf(column, device));
    }
    return { sql, parameters };
  }

  /** The login written over the device `id`, if it is `userId`'s. */
  update(id: string, userId: string, values: LoginValues): Statement {
    const parameters = this.loginColumns.map((column) => this.valueOf(column, values));
    return { sql: this.updateSql, parameters: [...parameters, id, userId] };
  }

  /** `row`'s value of `column`, as the driver writes it. The entity has plain columns only: none to walk into. */
  private valueOf(column: ColumnMetadata, row: Partial<Device>): unknown {
    return this.dataSource.driver.preparePersistentValue(row[column.propertyName as keyof Device], column);
  }

  private placeholder(index: number): string {
    return this.dataSource.driver.options.type === 'postgres' ? `$${index}` : '?';
  }
}
