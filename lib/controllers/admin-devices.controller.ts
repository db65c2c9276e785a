import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Logger,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  DEFAULT_PAGE_SIZE,
  DEVICE_TRACKER_OPTIONS,
  LOGGER_CONTEXT,
  MAX_PAGE_OFFSET,
  MAX_PAGE_SIZE,
} from '../device-tracker.constants.js';
import { DEFAULTS } from '../device-tracker.defaults.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { toAdminDeviceView, type AdminDevicesPage, type AdminDeviceView } from '../views/device-view.js';
import { DeviceService } from '../device.service.js';
import { DeviceSessionGuard } from '../guards/device-session.guard.js';
import { DeviceTrackerAdminGuard } from '../guards/device-tracker-admin.guard.js';
import { DeviceTrackerAuthGuard } from '../guards/device-tracker-auth.guard.js';
import { StoreUnavailableInterceptor } from '../interceptors/store-unavailable.interceptor.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { parseBooleanParam } from '../pipes/parse-boolean-param.pipe.js';
import { ParseDateTimePipe } from '../pipes/parse-date-time.pipe.js';
import { parseDeviceIdPipe } from '../pipes/parse-device-id.pipe.js';
import { ParseIpAddressPipe } from '../pipes/parse-ip-address.pipe.js';
import { ParsePageParamPipe } from '../pipes/parse-page-param.pipe.js';
import { ParseUserIdPipe } from '../pipes/parse-user-id.pipe.js';
import { type Caller, endSessionIfLoggedOut, readCaller } from '../http/caller.js';
import { SessionVerifier } from '../sessions/session-verifier.js';
import { ApiPageQueries } from '../openapi/api-page-queries.decorator.js';
import {
  AdminDevicesPageSchema,
  AdminDeviceViewSchema,
  ErrorSchema,
  LoggedOutCountSchema,
} from '../openapi/schemas.js';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '../openapi/swagger.js';

/** Filters are optional: an absent one filters nothing. */
const FILTER = { optional: true };

/**
 * Every user's devices, for administrators: list them with filters, show one, log one out, log out all of a user's.
 * Mounted only when the host sets `admin`. Behind `authGuard`, then `DeviceSessionGuard` (an administrator whose own
 * device is logged out loses access at once), then the host's `admin.guard`.
 */
@Controller(DEFAULTS.adminPath)
// The strict guard, not the user endpoints' one: no admin powers for a token whose session cannot be checked.
@UseGuards(DeviceTrackerAuthGuard, DeviceSessionGuard, DeviceTrackerAdminGuard)
@UseInterceptors(StoreUnavailableInterceptor)
@ApiTags('devices (admin)')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorSchema, description: 'No valid credentials, or this device was logged out' })
@ApiForbiddenResponse({ type: ErrorSchema, description: 'The admin guard refused the caller' })
@ApiServiceUnavailableResponse({ type: ErrorSchema, description: 'The device store cannot be reached; try again' })
export class AdminDevicesController {
  // Who logged out whose devices: the audit trail of the only routes that act on other users' accounts.
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly devices: DeviceService,
    private readonly sessions: SessionVerifier,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /**
   * Devices that match every filter given, most recently seen first, `limit` (1 to 100, default 50) at a time from
   * `offset`, with how many match in all.
   */
  @Get()
  @ApiOperation({ summary: "List every user's devices", description: 'Filters combine; most recently seen first.' })
  @ApiQuery({ name: 'userId', required: false, description: "Only this user's devices" })
  @ApiQuery({
    name: 'active',
    required: false,
    type: Boolean,
    description: 'true: active only; false: logged out only',
  })
  @ApiQuery({ name: 'ip', required: false, description: 'IPv4 or IPv6 address, compared as addresses are stored' })
  @ApiQuery({
    name: 'seenSince',
    required: false,
    schema: { type: 'string', format: 'date-time' },
    description: 'Seen at or after this ISO 8601 date or date-time with a time zone',
  })
  @ApiPageQueries()
  @ApiOkResponse({ type: AdminDevicesPageSchema })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'A filter or page parameter is malformed' })
  async list(
    @Req() request: DeviceRequest,
    @Query('userId', new ParseUserIdPipe('userId', FILTER)) userId: string | undefined,
    @Query('active', parseBooleanParam('active')) active: boolean | undefined,
    @Query('ip', new ParseIpAddressPipe('ip', FILTER)) ipAddress: string | undefined,
    @Query('seenSince', new ParseDateTimePipe('seenSince', FILTER)) seenSince: Date | undefined,
    @Query('limit', new ParsePageParamPipe('limit', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)) limit: number,
    @Query('offset', new ParsePageParamPipe('offset', 0, MAX_PAGE_OFFSET, 0)) offset: number,
  ): Promise<AdminDevicesPage> {
    const caller = readCaller(request, this.options);
    const { items, total } = await this.devices.search({ userId, active, ipAddress, seenSince }, { limit, offset });
    return { items: items.map((device) => toAdminDeviceView(device, caller.deviceId)), total, limit, offset };
  }

  /** Logs out every device of the user `?userId=` names, e.g. an account that was taken over. */
  @Post('logout-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log out every device of one user', description: 'For an account that was taken over.' })
  @ApiQuery({ name: 'userId', required: true })
  @ApiOkResponse({ type: LoggedOutCountSchema })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'userId is missing or malformed' })
  async logoutAll(
    @Req() request: DeviceRequest,
    @Query('userId', new ParseUserIdPipe('userId')) userId: string,
  ): Promise<{ loggedOut: number }> {
    const caller = readCaller(request, this.options);
    const loggedOut = await this.devices.logoutAll(userId, 'admin');
    this.logger.log(`Administrator ${actor(caller)} logged out ${loggedOut} devices of user ${userId}`);
    // The administrator may have logged out their own account.
    await endSessionIfLoggedOut(request, caller, this.sessions, this.options);
    return { loggedOut };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show any device' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: AdminDeviceViewSchema })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorSchema, description: 'No such device' })
  async findOne(@Req() request: DeviceRequest, @Param('id', parseDeviceIdPipe()) id: string): Promise<AdminDeviceView> {
    const caller = readCaller(request, this.options);
    return toAdminDeviceView(await this.devices.findById(id), caller.deviceId);
  }

  /** Logs out any user's device, as its owner would: its tokens (or express session) stop working at once. */
  @Post(':id/logout')
  @HttpCode(200)
  @ApiOperation({
    summary: "Log out any user's device",
    description: 'As its owner would: its refresh token is revoked and its access tokens refused at once. Idempotent.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: AdminDeviceViewSchema, description: 'The device, now inactive' })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorSchema, description: 'No such device' })
  async logout(@Req() request: DeviceRequest, @Param('id', parseDeviceIdPipe()) id: string): Promise<AdminDeviceView> {
    const caller = readCaller(request, this.options);
    const device = await this.devices.logoutById(id);
    this.logger.log(`Administrator ${actor(caller)} logged out device ${id} of user ${device.userId}`);
    await endSessionIfLoggedOut(request, caller, this.sessions, this.options);
    return toAdminDeviceView(device, caller.deviceId);
  }
}

/** The administrator's user id, for the log; JSON-quoted, as it comes from the host and may hold anything. */
function actor(caller: Caller): string {
  return JSON.stringify(caller.userId);
}
