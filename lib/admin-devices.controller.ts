import {
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
  type Type,
} from '@nestjs/common';
import {
  DEFAULT_ADMIN_DEVICES_PATH,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_OFFSET,
  MAX_PAGE_SIZE,
} from './device-tracker.constants.js';
import { toAdminDeviceView, type AdminDeviceView } from './device-view.js';
import { DeviceService } from './device.service.js';
import { DeviceSessionGuard } from './guards/device-session.guard.js';
import { DeviceTrackerAdminGuard } from './guards/device-tracker-admin.guard.js';
import { DeviceTrackerAuthGuard } from './guards/device-tracker-auth.guard.js';
import { StoreUnavailableInterceptor } from './interceptors/store-unavailable.interceptor.js';
import type { DeviceRequest } from './interfaces/device-request.interface.js';
import { ParseBooleanParamPipe } from './pipes/parse-boolean-param.pipe.js';
import { ParseDateTimePipe } from './pipes/parse-date-time.pipe.js';
import { ParseDeviceIdPipe } from './pipes/parse-device-id.pipe.js';
import { ParseIpAddressPipe } from './pipes/parse-ip-address.pipe.js';
import { ParsePageParamPipe } from './pipes/parse-page-param.pipe.js';
import { ParseUserIdPipe } from './pipes/parse-user-id.pipe.js';

/** A page of the admin listing. */
export interface AdminDevicesPage {
  items: AdminDeviceView[];
  /** How many devices match the filters, on every page together. */
  total: number;
  limit: number;
  offset: number;
}

/** Filters are optional: an absent one filters nothing. */
const FILTER = { optional: true };

/**
 * Every user's devices, for administrators: list them with filters, show one, log one out, log out all of a user's.
 * Mounted only when the host sets `admin`. Behind `authGuard`, then `DeviceSessionGuard` (an administrator whose own
 * device is logged out loses access at once), then the host's `admin.guard`.
 */
@Controller(DEFAULT_ADMIN_DEVICES_PATH)
@UseGuards(DeviceTrackerAuthGuard, DeviceSessionGuard, DeviceTrackerAdminGuard)
@UseInterceptors(StoreUnavailableInterceptor)
export class AdminDevicesController {
  constructor(private readonly devices: DeviceService) {}

  /**
   * Devices that match every filter given, most recently seen first, `limit` (1 to 100, default 50) at a time from
   * `offset`, with how many match in all.
   */
  @Get()
  async list(
    @Req() request: DeviceRequest,
    @Query('userId', new ParseUserIdPipe('userId', FILTER)) userId: string | undefined,
    @Query('active', new ParseBooleanParamPipe('active', FILTER)) active: boolean | undefined,
    @Query('ip', new ParseIpAddressPipe('ip', FILTER)) ipAddress: string | undefined,
    @Query('seenSince', new ParseDateTimePipe('seenSince', FILTER)) seenSince: Date | undefined,
    @Query('limit', new ParsePageParamPipe('limit', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)) limit: number,
    @Query('offset', new ParsePageParamPipe('offset', 0, MAX_PAGE_OFFSET, 0)) offset: number,
  ): Promise<AdminDevicesPage> {
    const { items, total } = await this.devices.search({ userId, active, ipAddress, seenSince }, { limit, offset });
    const current = this.devices.currentDeviceId(request);
    return { items: items.map((device) => toAdminDeviceView(device, current)), total, limit, offset };
  }

  /** Logs out every device of the user `?userId=` names, e.g. an account that was taken over. */
  @Post('logout-all')
  @HttpCode(200)
  async logoutAll(
    @Req() request: DeviceRequest,
    @Query('userId', new ParseUserIdPipe('userId')) userId: string,
  ): Promise<{ loggedOut: number }> {
    const loggedOut = await this.devices.logoutAll(userId, 'admin');
    // The administrator may have logged out their own account.
    await this.devices.endRequestSessionIfLoggedOut(request);
    return { loggedOut };
  }

  @Get(':id')
  async findOne(@Req() request: DeviceRequest, @Param('id', ParseDeviceIdPipe) id: string): Promise<AdminDeviceView> {
    return toAdminDeviceView(await this.devices.findById(id), this.devices.currentDeviceId(request));
  }

  /** Logs out any user's device, as its owner would: its tokens (or express session) stop working at once. */
  @Post(':id/logout')
  @HttpCode(200)
  async logout(@Req() request: DeviceRequest, @Param('id', ParseDeviceIdPipe) id: string): Promise<AdminDeviceView> {
    const device = await this.devices.logoutById(id);
    await this.devices.endRequestSessionIfLoggedOut(request);
    return toAdminDeviceView(device, this.devices.currentDeviceId(request));
  }
}

/** The admin controller mounted at `path`: the class itself at the default path, otherwise a subclass routed there. */
export function adminDevicesControllerAt(path: string): Type<AdminDevicesController> {
  if (path === DEFAULT_ADMIN_DEVICES_PATH) return AdminDevicesController;
  @Controller(path)
  class PathAdminDevicesController extends AdminDevicesController {}
  return PathAdminDevicesController;
}
