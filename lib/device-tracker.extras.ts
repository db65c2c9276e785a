import type { CanActivate, DynamicModule, Provider, Type } from '@nestjs/common';
import { APP_INTERCEPTOR, ModuleRef } from '@nestjs/core';
import { AdminDevicesController } from './controllers/admin-devices.controller.js';
import { controllerAt } from './controllers/controller-at.js';
import { DevicesController } from './controllers/devices.controller.js';
import { DEVICES_ADMIN_GUARD } from './device-tracker.constants.js';
import { DEFAULTS } from './device-tracker.defaults.js';
import { HostGuard } from './guards/host-guard.js';
import { TrackDeviceInterceptor } from './interceptors/track-device.interceptor.js';
import type {
  DeviceTrackerAdminOptions,
  DeviceTrackerModuleExtras,
} from './interfaces/device-tracker-options.interface.js';

const isPath = (path: unknown): path is string => typeof path === 'string' && path.trim().length > 0;

/** `path` as Nest routes it: `'/admin/devices/'` and `'admin/devices'` are the same route. */
const route = (path: string) => path.trim().replace(/^\/+|\/+$/g, '');

const isGuard = (guard: unknown): guard is Type<CanActivate> | CanActivate =>
  typeof guard === 'function' || typeof (guard as Partial<CanActivate> | null | undefined)?.canActivate === 'function';

/**
 * What `admin` adds to the module: the admin controller and the provider of the host's admin guard, or nothing when
 * it is not set (the default). Checked when the module is defined, so a mistake fails the start with its name.
 */
function adminPart(
  admin: DeviceTrackerAdminOptions | undefined,
  path: string | false,
): { controllers: Type[]; providers: Provider[] } {
  if (admin === undefined) return { controllers: [], providers: [] };
  const { guard, path: adminPath = DEFAULTS.adminPath } = admin ?? {};
  if (!isGuard(guard)) {
    throw new Error(
      'DeviceTrackerModule: admin.guard is required: a guard class or instance that lets only administrators through',
    );
  }
  if (!isPath(adminPath)) throw new Error('DeviceTrackerModule: admin.path must be a non-empty string');
  if (path !== false && route(adminPath) === route(path)) {
    throw new Error(`DeviceTrackerModule: admin.path must differ from path (both are '${route(path)}')`);
  }
  return {
    controllers: [controllerAt(AdminDevicesController, DEFAULTS.adminPath, adminPath)],
    providers: [
      {
        provide: DEVICES_ADMIN_GUARD,
        useFactory: (moduleRef: ModuleRef) => new HostGuard(guard, moduleRef),
        inject: [ModuleRef],
      },
    ],
  };
}

/**
 * What the top-level options (`isGlobal`, `path`, `admin`, `interceptor`) add to the module: which controllers it
 * mounts and which interceptor it registers app-wide. They are known when the module is defined, before any factory
 * runs, so a mistake fails the start with its name.
 */
export function applyExtras(
  definition: DynamicModule,
  { isGlobal, path = DEFAULTS.path, admin, interceptor = TrackDeviceInterceptor }: DeviceTrackerModuleExtras,
): DynamicModule {
  if (path !== false && !isPath(path)) {
    throw new Error('DeviceTrackerModule: path must be a non-empty string, or false to mount no routes');
  }
  if (
    typeof interceptor !== 'function' ||
    !(interceptor === TrackDeviceInterceptor || interceptor.prototype instanceof TrackDeviceInterceptor)
  ) {
    throw new Error('DeviceTrackerModule: interceptor must be a class that extends TrackDeviceInterceptor');
  }
  const adminRoutes = adminPart(admin, path);
  return {
    ...definition,
    global: isGlobal,
    controllers: [
      ...(path === false ? [] : [controllerAt(DevicesController, DEFAULTS.path, path)]),
      ...adminRoutes.controllers,
    ],
    providers: [
      ...(definition.providers ?? []),
      ...adminRoutes.providers,
      // App-wide, so @TrackDevice() works in any module; it does nothing on routes without the decorator.
      { provide: APP_INTERCEPTOR, useClass: interceptor },
    ],
  };
}
