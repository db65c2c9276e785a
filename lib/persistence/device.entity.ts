import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import {
  DEVICE_NAME_MAX_LENGTH,
  DEVICES_TABLE,
  IP_ADDRESS_MAX_LENGTH,
  REFRESH_TOKEN_ID_MAX_LENGTH,
  SESSION_ID_MAX_LENGTH,
  SOFTWARE_NAME_MAX_LENGTH,
  USER_AGENT_MAX_LENGTH,
  USER_ID_MAX_LENGTH,
} from '../device-tracker.constants.js';
import type { DeviceType } from '../user-agent/user-agent.js';

/**
 * One row per device a user signs in from: a later login from the same device updates the row. Columns are
 * snake_case so they read naturally in SQL whatever naming strategy the host uses.
 */
@Entity({ name: DEVICES_TABLE })
@Index('IDX_device_tracker_devices_user_seen', ['userId', 'lastSeenAt'])
@Index('IDX_device_tracker_devices_seen', ['lastSeenAt'])
@Index('IDX_device_tracker_devices_revoked', ['revokedAt'], { where: 'revoked_at IS NOT NULL' })
@Index('IDX_device_tracker_devices_ip_seen', ['ipAddress', 'lastSeenAt'])
export class Device {
  /** Opaque id, shown to the user and used to log the device out. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The owner's id as a string, whatever type the host's user ids have. */
  @Column({ name: 'user_id', type: String, length: USER_ID_MAX_LENGTH })
  userId!: string;

  /** Raw `User-Agent` header, cut to 512 characters; empty when none was sent. */
  @Column({ name: 'user_agent', type: String, length: USER_AGENT_MAX_LENGTH })
  userAgent!: string;

  /** A label a person recognises, e.g. "Chrome 130 on macOS". */
  @Column({ name: 'device_name', type: String, length: DEVICE_NAME_MAX_LENGTH })
  deviceName!: string;

  @Column({ type: String, length: SOFTWARE_NAME_MAX_LENGTH, nullable: true })
  browser!: string | null;

  @Column({ type: String, length: SOFTWARE_NAME_MAX_LENGTH, nullable: true })
  os!: string | null;

  @Column({ name: 'device_type', type: String, length: 16 })
  deviceType!: DeviceType;

  /**
   * IPv4 or IPv6 address the device was last seen from (login, refresh, or a request through
   * `DeviceSessionGuard`), as resolved by the platform (see `clientIp`) and kept as `storeIpAddress` says.
   */
  @Column({ name: 'ip_address', type: String, length: IP_ADDRESS_MAX_LENGTH, nullable: true })
  ipAddress!: string | null;

  /**
   * SHA-256 (hex) of the `jti` of the device's current refresh token, after its session and a slash when the token
   * carries one (see `refreshTokenIds`). Never in the API.
   */
  @Index('UQ_device_tracker_devices_refresh_jti', { unique: true })
  @Column({ name: 'refresh_token_jti', type: String, length: REFRESH_TOKEN_ID_MAX_LENGTH, nullable: true })
  refreshTokenJti!: string | null;

  /**
   * The device's current login session: the `sid` claim of the tokens issued at its last login (a new one at every
   * login, so tokens of an earlier login die with it), or its express-session id. Never in the API.
   */
  @Index('UQ_device_tracker_devices_session', { unique: true })
  @Column({ name: 'session_id', type: String, length: SESSION_ID_MAX_LENGTH, nullable: true })
  sessionId!: string | null;

  /** Digest of the refresh token the current one replaced, so presenting it again is recognised as reuse. */
  @Index('IDX_device_tracker_devices_previous_jti', { where: 'previous_refresh_token_jti IS NOT NULL' })
  @Column({ name: 'previous_refresh_token_jti', type: String, length: REFRESH_TOKEN_ID_MAX_LENGTH, nullable: true })
  previousRefreshTokenJti!: string | null;

  /**
   * Digest of the token a refresh racing with the last rotation was given: usable like the current one until the
   * device rotates again, so a client may keep either of two concurrent answers.
   */
  @Index('IDX_device_tracker_devices_concurrent_jti', { where: 'concurrent_refresh_token_jti IS NOT NULL' })
  @Column({ name: 'concurrent_refresh_token_jti', type: String, length: REFRESH_TOKEN_ID_MAX_LENGTH, nullable: true })
  concurrentRefreshTokenJti!: string | null;

  /** When the refresh token was last rotated: the start of the grace period for a concurrent refresh. */
  @Column({ name: 'refresh_token_rotated_at', type: Date, precision: 3, nullable: true })
  refreshTokenRotatedAt!: Date | null;

  /** False once the device has been logged out; a later login from it makes it active again. */
  @Column({ name: 'is_active', type: Boolean })
  isActive!: boolean;

  @Column({ name: 'created_at', type: Date, precision: 3 })
  createdAt!: Date;

  @Column({ name: 'last_login_at', type: Date, precision: 3 })
  lastLoginAt!: Date;

  @Column({ name: 'last_seen_at', type: Date, precision: 3 })
  lastSeenAt!: Date;

  @Column({ name: 'revoked_at', type: Date, precision: 3, nullable: true })
  revokedAt!: Date | null;
}
