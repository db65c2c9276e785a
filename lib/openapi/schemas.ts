import { USER_AGENT_MAX_LENGTH } from '../device-tracker.constants.js';
import type { AdminDevicesPage, AdminDeviceView, DeviceView } from '../views/device-view.js';
import { DEVICE_TYPES, type DeviceType } from '../user-agent/user-agent.js';
import { ApiProperty, ApiSchema } from './swagger.js';

/** `DeviceView` for the OpenAPI document; `implements` keeps the two in step. */
@ApiSchema({ name: 'DeviceView', description: 'A device as its owner sees it: never a token, jti or session id' })
export class DeviceViewSchema implements DeviceView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Chrome 130 on macOS', description: 'Browser and OS, or "Unknown device"' })
  deviceName!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Chrome' })
  browser!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'macOS' })
  os!: string | null;

  @ApiProperty({ enum: [...DEVICE_TYPES], enumName: 'DeviceType' })
  deviceType!: DeviceType;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.7',
    description: 'As stored by the storeIpAddress option: whole, truncated to its network, or null',
  })
  ipAddress!: string | null;

  @ApiProperty({ description: `The User-Agent header of the last login, cut to ${USER_AGENT_MAX_LENGTH} characters` })
  userAgent!: string;

  @ApiProperty({ format: 'date-time', description: 'First login from this device' })
  createdAt!: Date;

  @ApiProperty({ format: 'date-time' })
  lastLoginAt!: Date;

  @ApiProperty({ format: 'date-time', description: 'Last login, refresh or checked request' })
  lastSeenAt!: Date;

  @ApiProperty({ description: 'False once the device is logged out' })
  isActive!: boolean;

  @ApiProperty({ description: 'True for the device the request came from' })
  isCurrent!: boolean;
}

@ApiSchema({ name: 'LoggedOutCount' })
export class LoggedOutCountSchema {
  @ApiProperty({ description: 'How many devices this call logged out', example: 2 })
  loggedOut!: number;
}

/** The body of every error answer: Nest's standard shape. */
@ApiSchema({ name: 'DeviceTrackerError' })
export class ErrorSchema {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Device not found' })
  message!: string;

  @ApiProperty({ required: false, example: 'Not Found' })
  error?: string;
}

@ApiSchema({ name: 'AdminDeviceView', description: 'A device as administrators see it: its owner too' })
export class AdminDeviceViewSchema extends DeviceViewSchema implements AdminDeviceView {
  @ApiProperty({ example: '42' })
  userId!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it was logged out' })
  revokedAt!: Date | null;
}

@ApiSchema({ name: 'AdminDevicesPage' })
export class AdminDevicesPageSchema implements AdminDevicesPage {
  @ApiProperty({ type: AdminDeviceViewSchema, isArray: true })
  items!: AdminDeviceViewSchema[];

  @ApiProperty({ description: 'How many devices match the filters, on every page together' })
  total!: number;

  @ApiProperty()
  limit!: number;

  @ApiProperty()
  offset!: number;
}
