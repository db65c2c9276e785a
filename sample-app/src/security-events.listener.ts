import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  type DeviceLoggedOutEvent,
  DeviceTrackerEvents,
  type MaxDevicesExceededEvent,
  type RefreshTokenReuseDetectedEvent,
} from 'nestjs-device-tracker';

/** Where an app would alert the user or its security team; the sample logs. */
@Injectable()
export class SecurityEventsListener {
  private readonly logger = new Logger('SecurityEvents');

  @OnEvent(DeviceTrackerEvents.REFRESH_TOKEN_REUSE_DETECTED)
  onReuse({ device, ipAddress }: RefreshTokenReuseDetectedEvent): void {
    this.logger.warn(
      `Possible token theft: "${device.deviceName}" of user ${device.userId} logged out (replay from ${ipAddress})`,
    );
  }

  @OnEvent(DeviceTrackerEvents.DEVICE_LOGGED_OUT)
  onLoggedOut({ device, reason }: DeviceLoggedOutEvent): void {
    this.logger.log(`"${device.deviceName}" of user ${device.userId} logged out (${reason})`);
  }

  @OnEvent(DeviceTrackerEvents.MAX_DEVICES_EXCEEDED)
  onMaxDevices({ userId, limit, evicted }: MaxDevicesExceededEvent): void {
    this.logger.log(`User ${userId} reached ${limit} devices; ${evicted.length} logged out`);
  }
}
