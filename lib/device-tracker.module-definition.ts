import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_DEVICES_PATH } from './device-tracker.constants.js';
import { devicesControllerAt } from './devices.controller.js';
import type {
  DeviceTrackerModuleExtras,
  DeviceTrackerModuleOptions,
} from './interfaces/device-tracker-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<DeviceTrackerModuleOptions>({ moduleName: 'DeviceTracker' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createDeviceTrackerOptions')
    .setExtras<DeviceTrackerModuleExtras>(
      { isGlobal: true, path: DEFAULT_DEVICES_PATH },
      (definition, { isGlobal, path = DEFAULT_DEVICES_PATH }) => {
        if (path !== false && (typeof path !== 'string' || !path.trim())) {
          throw new Error('DeviceTrackerModule: path must be a non-empty string, or false to mount no routes');
        }
        return {
          ...definition,
          global: isGlobal,
          controllers: path === false ? [] : [devicesControllerAt(path)],
        };
      },
    )
    .build();

/** Argument of `DeviceTrackerModule.forRoot()`: the options plus `isGlobal` and `path`. */
export type DeviceTrackerModuleRootOptions = typeof OPTIONS_TYPE;

/** Argument of `DeviceTrackerModule.forRootAsync()`. */
export type DeviceTrackerModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
