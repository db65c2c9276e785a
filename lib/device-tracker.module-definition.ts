import { ConfigurableModuleBuilder } from '@nestjs/common';
import { applyExtras } from './device-tracker.extras.js';
import { DEFAULTS } from './device-tracker.defaults.js';
import type {
  DeviceTrackerModuleExtras,
  DeviceTrackerModuleOptions,
} from './interfaces/device-tracker-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<DeviceTrackerModuleOptions>({ moduleName: 'DeviceTracker' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createDeviceTrackerOptions')
    .setExtras<DeviceTrackerModuleExtras>({ isGlobal: DEFAULTS.isGlobal, path: DEFAULTS.path }, applyExtras)
    .build();

/** Argument of `DeviceTrackerModule.forRoot()`: the options plus `isGlobal`, `path` and `admin`. */
export type DeviceTrackerModuleRootOptions = typeof OPTIONS_TYPE;

/** Argument of `DeviceTrackerModule.forRootAsync()`. */
export type DeviceTrackerModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
