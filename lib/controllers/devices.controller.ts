import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  Inject,
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
  MAX_PAGE_OFFSET,
  MAX_PAGE_SIZE,
} from '../device-tracker.constants.js';
import { DEFAULTS } from '../device-tracker.defaults.js';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { endSessionIfLoggedOut, readCaller } from '../http/caller.js';
import { SessionVerifier } from '../sessions/session-verifier.js';
import { toDeviceView, type DeviceView } from '../views/device-view.js';
import { DeviceService } from '../device.service.js';
import { OwnEndpointsSessionGuard } from '../guards/own-endpoints-session.guard.js';
import { DeviceTrackerAuthGuard } from '../guards/device-tracker-auth.guard.js';
import { StoreUnavailableInterceptor } from '../interceptors/store-unavailable.interceptor.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';
import { parseDeviceIdPipe } from '../pipes/parse-device-id.pipe.js';
import { ParsePageParamPipe } from '../pipes/parse-page-param.pipe.js';
import { ApiPageQueries } from '../openapi/api-page-queries.decorator.js';
import { DeviceViewSchema, ErrorSchema, LoggedOutCountSchema } from '../openapi/schemas.js';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '../openapi/swagger.js';

/** The caller's own devices: list them, log one out, log out all the others or all of them. */
@Controller(DEFAULTS.path)
@UseGuards(DeviceTrackerAuthGuard, OwnEndpointsSessionGuard)
@UseInterceptors(StoreUnavailableInterceptor)
@ApiTags('devices')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorSchema, description: 'No valid credentials, or this device was logged out' })
@ApiServiceUnavailableResponse({ type: ErrorSchema, description: 'The device store cannot be reached; try again' })
export class DevicesController {
  constructor(
    private readonly devices: DeviceService,
    private readonly sessions: SessionVerifier,
    @Inject(DEVICE_TRACKER_OPTIONS) private readonly options: ResolvedDeviceTrackerOptions,
  ) {}

  /** The caller's devices, most recently seen first, `limit` (1 to 100, default 50) at a time from `offset`. */
  @Get()
  @ApiOperation({ summary: 'List my devices', description: 'Most recently seen first; logged-out devices included.' })
  @ApiPageQueries()
  @ApiOkResponse({ type: DeviceViewSchema, isArray: true })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'limit or offset out of range' })
  async list(
    @Req() request: DeviceRequest,
    @Query('limit', new ParsePageParamPipe('limit', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)) limit: number,
    @Query('offset', new ParsePageParamPipe('offset', 0, MAX_PAGE_OFFSET, 0)) offset: number,
  ): Promise<DeviceView[]> {
    const { userId, deviceId } = readCaller(request, this.options);
    const devices = await this.devices.list(userId, { limit, offset });
    return devices.map((device) => toDeviceView(device, deviceId));
  }

  @Post('logout-others')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log out all my other devices', description: 'Every active device but this one.' })
  @ApiOkResponse({ type: LoggedOutCountSchema })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'The request does not say which device it comes from' })
  async logoutOthers(@Req() request: DeviceRequest): Promise<{ loggedOut: number }> {
    const { userId, deviceId } = readCaller(request, this.options);
    if (!deviceId) {
      throw new BadRequestException(
        'Cannot tell which device this request comes from: send its device id (header or cookie) or a token with a session claim',
      );
    }
    return { loggedOut: await this.devices.logoutOthers(userId, deviceId) };
  }

  /** Logs out every device, this one included: its tokens stop working once the answer is sent. */
  @Post('logout-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log out all my devices', description: 'This one too: its tokens stop working.' })
  @ApiOkResponse({ type: LoggedOutCountSchema })
  async logoutAll(@Req() request: DeviceRequest): Promise<{ loggedOut: number }> {
    const caller = readCaller(request, this.options);
    const loggedOut = await this.devices.logoutAll(caller.userId);
    await endSessionIfLoggedOut(request, caller, this.sessions, this.options);
    return { loggedOut };
  }

  @Post(':id/logout')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log out one of my devices',
    description: 'Its refresh token is revoked and its access tokens are refused at once. Idempotent.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: DeviceViewSchema, description: 'The device, now inactive' })
  @ApiBadRequestResponse({ type: ErrorSchema, description: 'id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorSchema, description: 'No such device among mine' })
  async logout(@Req() request: DeviceRequest, @Param('id', parseDeviceIdPipe()) id: string): Promise<DeviceView> {
    const caller = readCaller(request, this.options);
    const device = await this.devices.logout(caller.userId, id);
    await endSessionIfLoggedOut(request, caller, this.sessions, this.options);
    return toDeviceView(device, caller.deviceId);
  }
}
